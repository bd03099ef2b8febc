/* The report dialog of templates/moderation/_report_dialog.html, loaded by
 * report.js at the first click on a report or alert button (it weighs on every
 * room page otherwise: docs/ux.md, the page budget). Uses the dialog's
 * translated strings; sends POST /api/reports/ or /api/reports/alert/. */
(function () {
  "use strict";

  var dialog = document.getElementById("report-dialog");
  var form = dialog.querySelector("form");
  var title = dialog.querySelector(".report-title");
  var help = dialog.querySelector(".report-alert-help");
  var category = dialog.querySelector(".report-category");
  var details = dialog.querySelector("#report-details");
  var threat = dialog.querySelector("#report-threat");
  var errorBox = dialog.querySelector(".report-error");
  var done = dialog.querySelector(".report-done");
  var send = dialog.querySelector(".report-send");
  var quote = dialog.querySelector(".report-quote");
  var select = form.elements.category;
  var target = null; // {message: id} | {user: name} | {alert: true}

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function open(newTarget) {
    target = newTarget;
    form.reset();
    errorBox.textContent = "";
    done.hidden = true;
    send.hidden = false;
    select.removeAttribute("aria-invalid");
    // The reported message, quoted so that the reporter sees what they report.
    var item = target.message && document.querySelector('li.message[data-id="' + target.message + '"]');
    quote.hidden = !item;
    if (item) {
      quote.firstChild.textContent = quote.dataset.caption.replace("%(name)s", item.querySelector(".message-author").textContent);
      quote.lastChild.textContent = item.querySelector(".message-body").textContent;
    }
    var isAlert = Boolean(target.alert);
    category.hidden = isAlert;
    help.hidden = !isAlert;
    title.textContent = isAlert ? title.dataset.alertTitle
      : target.message ? title.dataset.reportTitle : title.dataset.userTitle;
    dialog.showModal();
  }



  dialog.querySelector(".report-cancel").addEventListener("click", function () { dialog.close(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var url = dialog.dataset.reportsUrl;
    var payload = { details: details.value, threat_to_life: threat.checked };
    if (target.alert) {
      url = dialog.dataset.alertUrl;
      payload.room = dialog.dataset.room;
    } else {
      // No category is chosen in advance: a hasty send must not file the gravest one.
      if (!select.value) {
        errorBox.textContent = select.dataset.missing;
        select.setAttribute("aria-invalid", "true");
        select.focus();
        return;
      }
      payload.category = select.value;
      if (target.message) payload.message = target.message;
      else payload.user = target.user;
    }
    send.disabled = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      send.disabled = false;
      if (!result.ok) { errorBox.textContent = result.data.detail || ""; return; }
      done.textContent = done.dataset.text;
      done.hidden = false;
      send.hidden = true;
      // The focused button just went away: keep keyboard users in the dialog.
      dialog.querySelector(".report-cancel").focus();
    }, function () { send.disabled = false; });
  });

  window.chatsiteReport = open;
})();
