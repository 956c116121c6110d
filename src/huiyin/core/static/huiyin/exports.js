// A background export's page: when the polled progress turns into the finished file's link
// (htmx swaps it in), download it once. Only a swap does this: opening the page of an
// export done earlier shows the link without downloading it again.
document.addEventListener("htmx:afterSwap", function () {
  var link = document.querySelector("#export-progress [data-auto-download]");
  if (link && !link.dataset.downloaded) {
    link.dataset.downloaded = "1";
    link.click();
  }
});
