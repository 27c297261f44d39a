// Sortable tables and a filter drawer, for the dashboard and the audit log
// (templates/certification/dashboard.html, templates/audit/event_list.html). Without this script
// the pages work as they are: plain tables (the dashboard's "Sort by" orders its list) and the
// filters shown open. With it:
// - each header of a table[data-sort-param] that has data-sort becomes a button; a click reloads
//   the page sorted by that column, the other way round when it is already sorted by it. The server
//   sorts, because the list is paged and the chart is drawn in the counts table's order;
// - on phones (max 600px) the filters fold into their drawer (a <details>), open on wider screens.
(function () {
  "use strict";

  function sortUrl(table, header) {
    var url = new URL(window.location.href);
    var current = header.getAttribute("aria-sort");
    var order = current ? (current === "ascending" ? "desc" : "asc")
      : (header.getAttribute("data-first-order") || "asc");
    url.searchParams.set(table.getAttribute("data-sort-param"), header.getAttribute("data-sort"));
    url.searchParams.set(table.getAttribute("data-order-param"), order);
    url.searchParams.delete("page");  // the first page of the new order
    var section = table.closest("section[id]");
    url.hash = section ? section.id : "";
    return url.toString();
  }

  Array.prototype.forEach.call(document.querySelectorAll("table[data-sort-param]"), function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("th[data-sort]"), function (header) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (header.firstChild) { button.appendChild(header.firstChild); }
      header.appendChild(button);
      button.addEventListener("click", function () { window.location.assign(sortUrl(table, header)); });
    });
  });

  var drawer = document.querySelector("details.filter-drawer");
  if (drawer && window.matchMedia) {
    var phone = window.matchMedia("(max-width: 600px)");
    var fit = function () { drawer.open = !phone.matches; };
    fit();
    if (phone.addEventListener) { phone.addEventListener("change", fit); }
  }
})();
