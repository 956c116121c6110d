"""Demo organisation and realistic demo cases (``huiyin demo``)."""
