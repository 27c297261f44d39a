// The assignment form's person picker for long rosters: as the user types a name or an e-mail,
// ask the server (GET data-search-url?q=) for the matching agents they may assign to, and put
// them in the field's <datalist>, which the browser shows as suggestions (keyboard and screen
// readers included). No words of its own; without script, a typed e-mail address still works.
(function () {
  "use strict";
  var list = document.querySelector("datalist[data-search-url]");
  var input = list && document.querySelector('input[list="' + list.id + '"]');
  if (!input) { return; }
  var url = list.getAttribute("data-search-url");
  var timer = null;
  var asked = "";  // the last text searched, so that an answer to an older one is dropped

  function chosen(value) {
    // Picking a suggestion fires "input" too: keep the list rather than search for "Name <e-mail>".
    return Array.prototype.some.call(list.options, function (option) { return option.value === value; });
  }

  function fill(people) {
    var options = document.createDocumentFragment();
    people.forEach(function (person) {
      var option = document.createElement("option");
      option.value = person.value;
      options.appendChild(option);
    });
    list.replaceChildren(options);
  }

  function search() {
    var text = input.value.trim();
    if (text.length < 2 || chosen(input.value)) { return; }
    asked = text;
    fetch(url + "?q=" + encodeURIComponent(text), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (answer) { if (text === asked) { fill(answer.people); } })
      .catch(function () { /* a network blip: the suggestions stay as they were; a typed address still works */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 200);
  });
})();
