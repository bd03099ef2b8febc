/* In-room controls for moderators (OTP-verified staff): a "Modérer" button on
 * each message of someone else, opening a dialog that removes the message
 * and/or sanctions its author through the moderator API
 * (DELETE /api/moderation/messages/<id>/, POST /api/moderation/sanctions/). */
(function () {
  "use strict";

  var dialog = document.getElementById("moderate-dialog");
  var chat = document.getElementById("chat");
  var list = document.getElementById("messages");
  if (!dialog || !chat || !list || typeof dialog.showModal !== "function") return;
  var form = dialog.querySelector("form");
  var errorBox = dialog.querySelector(".moderate-error");
  var done = dialog.querySelector(".moderate-done");
  var send = dialog.querySelector(".moderate-send");
  var target = null; // {id, author}

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function call(method, url, payload) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    }).then(function (response) {
      if (response.ok) return null;
      return response.json().then(function (data) { throw new Error(data.detail || String(response.status)); });
    });
  }

  function addButtons() {
    list.querySelectorAll("li.message:not(.mine)").forEach(function (item) {
      if (item.querySelector(".moderate-button")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "moderate-button link";
      button.textContent = dialog.dataset.button;
      item.append(button);
    });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest(".moderate-button");
    if (!button) return;
    var item = button.closest("li.message");
    target = { id: item.dataset.id, author: item.querySelector(".message-author").textContent };
    form.reset();
    errorBox.textContent = "";
    done.hidden = true;
    dialog.querySelector(".moderate-author").textContent = target.author;
    dialog.showModal();
  });

  dialog.querySelector(".moderate-cancel").addEventListener("click", function () { dialog.close(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var reason = form.elements.reason.value;
    var ground = form.elements.ground.value;
    // Empty: the server cites the ground's usual rule (moderation/rules.py).
    var clause = form.elements.clause.value || null;
    var kind = form.elements.kind.value;
    // Nothing is chosen in advance: the moderator picks the measure and its ground.
    var missing = !form.elements.remove.checked && !kind ? "noMeasure" : !ground ? "noGround" : "";
    errorBox.textContent = missing ? errorBox.dataset[missing] : "";
    if (missing) return;
    var steps = Promise.resolve(null);
    if (form.elements.remove.checked) {
      steps = steps.then(function () {
        return call("DELETE", dialog.dataset.messagesUrl + target.id + "/", { reason: reason, ground: ground, clause: clause });
      });
    }
    if (kind) {
      var minutes = parseInt(form.elements.duration_minutes.value, 10);
      steps = steps.then(function () {
        return call("POST", dialog.dataset.sanctionsUrl, {
          user: target.author,
          kind: kind,
          room: form.elements.site_wide.checked ? null : dialog.dataset.room,
          duration_minutes: isNaN(minutes) ? null : minutes,
          reason: reason,
          ground: ground,
          clause: clause,
        });
      });
    }
    send.disabled = true;
    steps.then(function () {
      done.textContent = done.dataset.text;
      done.hidden = false;
    }, function (error) {
      errorBox.textContent = error.message;
    }).then(function () { send.disabled = false; });
  });

  addButtons();
  new MutationObserver(addButtons).observe(list, { childList: true });
})();
