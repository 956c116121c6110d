from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huiyin.core.privacy import mask_address, mask_id_number, mask_name, mask_phone
from huiyin.core.validators import INT_MAX, id_check_digit, id_number_error, normalize_phone, phone_error, whole_number


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("0571-87654321", "0571-****4321"),
        ("12345", "1****"),
        ("", ""),
    ],
)
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


def test_mask_id_number_hides_birth_date():
    assert mask_id_number("11010519491231002X") == "110105********002X"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("示范市江南区阳光花园3幢2单元1203室", "示范市江南区****"),  # the estate goes with the house number
        ("浙江省杭州市西湖区文三路 123 号", "浙江省杭州市西湖区文三路****"),  # 三 of 文三路 is no house number
        ("北京市朝阳区望京花园三号楼", "北京市朝阳区****"),
        ("示范市江南区阳光小区", "示范市江南区****"),  # 小区 is an estate, not a district
        ("示范市西湖街道", "示范市西湖街道"),  # nothing below the street: nothing to hide
        ("人民医院门口", "****"),
        ("", ""),
    ],
)
def test_mask_address_keeps_area_and_road(raw, masked):
    assert mask_address(raw) == masked


@given(st.text(alphabet="市区路街号幢单元室0123456789阳光花园小", max_size=30))
def test_masked_address_never_shows_a_digit(address):
    assert not any(ch.isdigit() for ch in mask_address(address))


def test_mask_name_keeps_surname():
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True))
def test_masked_mobile_never_shows_the_middle_digits(phone):
    masked = mask_phone(phone)
    assert masked[3:7] == "****" and masked[:3] == phone[:3] and masked[-4:] == phone[-4:]


@given(st.from_regex(r"[1-6]\d{5}(19[5-9]\d|200\d)(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}", fullmatch=True))
def test_every_correct_check_digit_is_accepted_and_every_other_refused(first17):
    good = id_check_digit(first17)
    assert id_number_error(first17 + good) is None
    for wrong in "0123456789X":
        if wrong != good:
            assert id_number_error(first17 + wrong) is not None


@pytest.mark.parametrize("phone", ["13812345678", "0571-87654321", "057187654321", "87654321", "12345", "96310"])
def test_valid_phones(phone):
    assert phone_error(phone) is None


@pytest.mark.parametrize("phone", ["12345678901", "1381234567", "abc", "138123456789", "0571-1234"])
def test_invalid_phones(phone):
    assert phone_error(phone)


def test_normalize_phone():
    assert normalize_phone(" +86 (138) 1234-5678 ".replace("-", "")) == "13812345678"
    assert normalize_phone("0571－87654321") == "0571-87654321"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("42", 42),
        (" 7 ", 7),
        ("0", 0),
        (str(INT_MAX), INT_MAX),
        ("", None),
        (None, None),
        ("-1", None),
        ("1.5", None),
        ("²", None),
        ("٣", None),
        ("１２", None),
        (str(INT_MAX + 1), None),
        ("9" * 40, None),
    ],
)
def test_whole_number_takes_ascii_digits_that_fit_a_column(raw, expected):
    assert whole_number(raw) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/supervision/issue/?case=²", "/supervision/?page=²", "/supervision/issue/?case=99999999999999999999"]
)
def test_odd_digits_in_a_query_are_not_a_server_error(client, org, leader, url):
    client.force_login(leader)
    assert client.get(url).status_code == 200
