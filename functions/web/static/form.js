// The web form's rows: add, copy and remove a row; number the cards. Plain script, no library.
// Without it the page still works: it always has one empty row, and saving adds another.
(function () {
  "use strict";

  function renumber(rows) {
    var label = rows.getAttribute("data-row-label") || "{n}";
    var cards = rows.querySelectorAll(".row-card");
    for (var i = 0; i < cards.length; i++) {
      var legend = cards[i].querySelector("legend");
      if (legend) legend.textContent = label.replace("{n}", String(i + 1));
    }
  }

  function nextIndex(rows) {
    var n = parseInt(rows.getAttribute("data-next") || "0", 10);
    rows.setAttribute("data-next", String(n + 1));
    return String(n);
  }

  // Point every name, id and label of a card at a new row index.
  function reindex(card, index) {
    var old = card.getAttribute("data-index");
    card.setAttribute("data-index", index);
    var table = card.closest(".rows").getAttribute("data-table");
    var from = table + "." + old + ".", to = table + "." + index + ".";
    var fromId = "f-" + table + "-" + old + "-", toId = "f-" + table + "-" + index + "-";
    card.querySelectorAll("[name]").forEach(function (el) { el.name = el.name.split(from).join(to); });
    card.querySelectorAll("[id]").forEach(function (el) { el.id = el.id.split(fromId).join(toId); });
    card.querySelectorAll("label[for]").forEach(function (el) { el.htmlFor = el.htmlFor.split(fromId).join(toId); });
  }

  function addRow(rows, source) {
    var card;
    if (source) {
      card = source.cloneNode(true);
      // cloneNode keeps typed values only as attributes; copy what the unit typed since
      var a = source.querySelectorAll("input, select, textarea"), b = card.querySelectorAll("input, select, textarea");
      for (var i = 0; i < a.length; i++) {
        if (a[i].type === "checkbox") b[i].checked = a[i].checked; else b[i].value = a[i].value;
      }
      card.querySelectorAll(".issue").forEach(function (el) { el.remove(); });
      card.querySelectorAll(".has-issue").forEach(function (el) { el.classList.remove("has-issue"); });
    } else {
      var tpl = document.querySelector('template.row-template[data-table="' + rows.getAttribute("data-table") + '"]');
      card = tpl.content.firstElementChild.cloneNode(true);
    }
    var index = nextIndex(rows);
    if (source) source.after(card); else rows.appendChild(card);
    reindex(card, index);
    renumber(rows);
    var first = card.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button");
    if (!button) return;
    if (button.classList.contains("add-row")) {
      addRow(document.querySelector('.rows[data-table="' + button.getAttribute("data-table") + '"]'), null);
    } else if (button.classList.contains("copy-row")) {
      var card = button.closest(".row-card");
      addRow(card.closest(".rows"), card);
    } else if (button.classList.contains("remove-row")) {
      var gone = button.closest(".row-card"), rows = gone.closest(".rows");
      if (rows.querySelectorAll(".row-card").length > 1) {
        gone.remove();
      } else {
        // the last card is emptied rather than removed, so there is always a row to type in
        gone.querySelectorAll("input, select, textarea").forEach(function (el) {
          if (el.type === "checkbox") el.checked = false; else el.value = "";
        });
      }
      renumber(rows);
    }
  });
})();
