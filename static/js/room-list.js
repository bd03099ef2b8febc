/* The rooms page: filters the listed rooms as you type. The search form
 * itself is a plain GET form (?q=&theme=) that works without this script;
 * this only saves a round trip. Accents and letter case are ignored. */
(function () {
  "use strict";

  var input = document.getElementById("room-search-q");
  var directory = document.getElementById("room-directory");
  if (!input || !directory) return;
  var strings = JSON.parse(document.getElementById("room-list-strings").textContent);
  var count = document.getElementById("room-count");
  var rules = new Intl.PluralRules(document.documentElement.lang || undefined);
  var cards = Array.prototype.slice.call(directory.querySelectorAll(".room-card"));
  var timer = null;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  cards.forEach(function (card) { card.dataset.folded = fold(card.dataset.search || ""); });

  function filter() {
    var words = fold(input.value).split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var match = words.every(function (word) { return card.dataset.folded.indexOf(word) !== -1; });
      card.hidden = !match;
      if (match) shown += 1;
    });
    var forms = strings.count;
    count.textContent = shown || !cards.length
      ? (forms[rules.select(shown)] || forms.other).replace("%(count)d", String(shown))
      : strings.none;
  }

  input.addEventListener("input", function () {
    // The count is a live region: announce once typing pauses, not per key.
    clearTimeout(timer);
    timer = setTimeout(filter, 250);
  });
})();
