// Submit the SAML HTTP-POST binding form once the page has loaded (no inline script:
// the pages' CSP allows scripts from this origin only). Without JavaScript the
// visible "Continue" button does the same.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
  }
});
