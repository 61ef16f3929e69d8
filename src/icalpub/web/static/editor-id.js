// The editor's new-event form: fill the id with the one the server suggests from the title
// and the start date, as they are typed, until the editor types an id of their own.
// Without JavaScript a save without an id gets the same suggestion.
(function () {
  "use strict";
  var id = document.getElementById("f-id");
  var title = document.getElementById("f-title");
  var start = document.getElementById("f-start_date");
  if (!id || !title || !start || !window.fetch) return;
  var suggested = id.value;
  var timer = null;
  function ask() {
    if (id.value !== suggested) return; // the editor's own id: left alone
    var query = "?title=" + encodeURIComponent(title.value) + "&start=" + encodeURIComponent(start.value);
    fetch(id.getAttribute("data-suggest") + query, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && id.value === suggested) {
          id.value = answer.id;
          suggested = answer.id;
        }
      })
      .catch(function () {});
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  }
  title.addEventListener("input", later);
  start.addEventListener("input", later);
  start.addEventListener("change", later);
})();
