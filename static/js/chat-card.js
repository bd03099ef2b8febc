/* Profile cards of the room page (a native <dialog>: Escape closes, focus goes
 * back to the name), loaded by chat.js with the first name opened: the card
 * API, direct message, block, ignore and report (docs/protocol.md). Texts go in with
 * textContent. Returns the function that opens a card. */
window.chatsiteCard = function (page) {
  "use strict";

  var chat = page.chat;
  var strings = page.strings;
  var format = page.format;
  var lang = page.lang;
  var block = page.block;
  var ignores = page.ignores; // chat-features.js: who is ignored, a change applied to the page
  var card = document.getElementById("profile-card");
  var cardName = null;
  var cardData = null;
  var opener = null;

  function cardPart(id) { return document.getElementById("profile-card-" + id); }

  function showCard(data) {
    cardData = data;
    cardPart("status").textContent = data ? "" : strings.card_failed;
    var since = cardPart("since");
    var age = cardPart("age");
    since.textContent = "";
    age.textContent = "";
    cardPart("verified").hidden = !(data && data.age_verified);
    cardPart("dm").hidden = !(data && data.can_message);
    cardPart("block").hidden = !data || data.is_self;
    cardPart("block").textContent = data && data.blocked ? strings.unblock : cardPart("block").dataset.block;
    cardPart("report").hidden = !data || data.is_self;
    if (!data) return;
    since.dateTime = data.member_since;
    var joined = new Date(data.member_since + "T12:00:00");
    since.textContent = format(strings.member_since, {
      date: new Intl.DateTimeFormat(lang, { dateStyle: "long" }).format(joined),
    });
    if (window.Intl && Intl.RelativeTimeFormat) {
      var days = data.account_age_days;
      var unit = days >= 365 ? "year" : days >= 30 ? "month" : "day";
      var amount = unit === "year" ? Math.floor(days / 365) : unit === "month" ? Math.floor(days / 30) : days;
      age.textContent = "(" + new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(-amount, unit) + ")";
    }
    if (data.blocked) cardPart("status").textContent = strings.blocked_person;
    cardPart("dm").href = "/dm/" + encodeURIComponent(data.username) + "/";
    cardPart("report").dataset.reportUser = data.username;
  }

  function openCard(name, from) {
    cardName = name;
    opener = from;
    cardPart("name").textContent = name;
    var ignore = cardPart("ignore");
    ignore.hidden = !ignores || name === page.me;
    if (ignores) ignore.textContent = ignores.has(name) ? strings.unignore : strings.ignore;
    showCard(null);
    cardPart("status").textContent = strings.loading;
    card.showModal();
    fetch(chat.dataset.cardUrl.replace("USERNAME", encodeURIComponent(name)), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; })
      .then(function (data) { if (cardName === name) showCard(data); });
  }

  cardPart("close").addEventListener("click", function () { card.close(); });
  // The report dialog takes over: close the card first, so that only one is open.
  cardPart("report").addEventListener("click", function () { card.close(); });
  cardPart("block").addEventListener("click", function () {
    var lift = cardData && cardData.blocked;
    block(cardName, function () {
      // Lifted: the card is read again (may they write to each other now?).
      if (lift) openCard(cardName, opener); else if (cardData) showCard(Object.assign({}, cardData, { blocked: true, can_message: false }));
    }, lift);
  });
  cardPart("ignore").addEventListener("click", function () {
    var name = cardName;
    var was = ignores.has(name);
    (was ? fetch("/api/ignores/" + encodeURIComponent(name) + "/", { method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": page.csrfToken() } })
      : page.post("/api/ignores/", { username: name }))
      .then(function (response) { if (!response.ok) throw new Error(); ignores.set(name, !was); })
      .catch(function () { page.showError(strings.ignore_failed); });
  });
  card.addEventListener("close", function () {
    // Back to where the reader was, unless another dialog (the report) took focus.
    if (opener && opener.isConnected && !document.querySelector("dialog[open]")) opener.focus();
  });

  return openCard;
};
