// Subscribe page: update the addresses as topics are ticked, and copy them.
// Without JavaScript the form's "Show the addresses" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("choose");

  function status(text) {
    var box = document.querySelector("#addresses .status");
    if (box) { box.textContent = box.getAttribute(text); }
  }

  function bindCopy() {
    document.querySelectorAll("button.copy").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.getAttribute("data-copy"));
        input.focus();
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(
            function () { status("data-copied"); },
            function () { status("data-select"); }
          );
        } else {
          status(document.execCommand && document.execCommand("copy") ? "data-copied" : "data-select");
        }
      });
    });
  }

  function refresh() {
    var query = new URLSearchParams(new FormData(form)).toString();
    var url = form.getAttribute("action") + (query ? "?" + query : "");
    fetch(url, { headers: { "Accept": "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("addresses");
        if (fresh) {
          document.getElementById("addresses").replaceWith(fresh);
          bindCopy();
          history.replaceState(null, "", url);
        }
      });
  }

  if (form) {
    form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      box.addEventListener("change", refresh);
    });
  }
  bindCopy();
})();
