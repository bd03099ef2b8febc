/* The moderator's menu of a room's owner and moderators (docs/moderation.md,
 * "Modérateurs de salon"): a "Modérer" button on each message of someone else,
 * opening a dialog that hides the message, mutes or kicks its author for a
 * while, or hands the matter to staff, through
 * POST /api/rooms/<slug>/moderation/{hide,restrict,escalate}/.
 * Only their page loads this file (moderation/templatetags/moderation.py). */
(function () {
  "use strict";

  var dialog = document.getElementById("room-moderate-dialog");
  var list = document.getElementById("messages");
  if (!dialog || !list || typeof dialog.showModal !== "function") return;
  var form = dialog.querySelector("form");
  var errorBox = dialog.querySelector(".moderate-error");
  var otpBox = dialog.querySelector(".room-moderate-otp");
  var done = dialog.querySelector(".moderate-done");
  var send = dialog.querySelector(".moderate-send");
  var target = null; // {id, author}

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(path, payload) {
    return fetch(dialog.dataset.api + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok) return data;
        var error = new Error(data.detail || String(response.status));
        error.code = data.error;
        throw error;
      });
    });
  }

  function addButtons() {
    list.querySelectorAll("li.message:not(.mine)").forEach(function (item) {
      if (item.querySelector(".room-moderate-button") || !item.dataset.id) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "room-moderate-button link small";
      button.textContent = dialog.dataset.button;
      (item.querySelector(".message-actions") || item).append(button);
    });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest(".room-moderate-button");
    if (!button) return;
    var item = button.closest("li.message");
    var author = item.querySelector(".message-author");
    var body = item.querySelector(".message-body");
    target = { id: parseInt(item.dataset.id, 10), author: item.dataset.author || (author ? author.textContent : "") };
    form.reset();
    errorBox.textContent = "";
    otpBox.hidden = true;
    done.hidden = true;
    dialog.querySelector(".moderate-author").textContent = target.author;
    // Set as text, never as markup: the message is a member's words.
    dialog.querySelector(".room-moderate-quote").textContent = body ? body.textContent : "";
    dialog.showModal();
  });

  dialog.querySelector(".moderate-cancel").addEventListener("click", function () { dialog.close(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var measure = form.elements.measure.value;
    var reason = form.elements.reason.value.trim();
    var clause = form.elements.clause.value || null;
    var missing = !measure ? "noMeasure" : !reason ? "noReason"
      : measure === "escalate" && !form.elements.category.value ? "noCategory" : "";
    errorBox.textContent = missing ? errorBox.dataset[missing] : "";
    otpBox.hidden = true;
    if (missing) return;
    var call;
    if (measure === "hide") {
      call = post("hide/", { message: target.id, reason: reason, clause: clause });
    } else if (measure === "escalate") {
      call = post("escalate/", { message: target.id, note: reason, category: form.elements.category.value });
    } else {
      call = post("restrict/", {
        user: target.author,
        kind: measure,
        duration_minutes: parseInt(form.elements.duration_minutes.value, 10),
        reason: reason,
        clause: clause,
      });
    }
    send.disabled = true;
    call.then(function () {
      done.textContent = done.dataset.text;
      done.hidden = false;
    }, function (error) {
      errorBox.textContent = error.message;
      otpBox.hidden = error.code !== "otp_required";
    }).then(function () { send.disabled = false; });
  });

  addButtons();
  new MutationObserver(addButtons).observe(list, { childList: true });
})();
