/* The profile page's lists of ignored and blocked people, with unignore and
 * unblock (GET /api/ignores/, /api/blocks/; DELETE .../<username>/). Names are
 * inserted with textContent. */
(function () {
  "use strict";
  var section = document.getElementById("relations");
  if (!section) return;
  var status = document.getElementById("relations-status");

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function fill(list, names, label) {
    list.replaceChildren();
    if (!names.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = section.dataset.empty;
      list.append(empty);
      return;
    }
    names.forEach(function (name) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary small";
      button.textContent = label;
      button.setAttribute("aria-label", label + " " + name);
      button.addEventListener("click", function () {
        fetch(list.dataset.listUrl + encodeURIComponent(name) + "/", {
          method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
        }).then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          // Open room tabs show this person's messages again at once.
          if (list.id === "ignored-list" && window.BroadcastChannel) {
            new BroadcastChannel("chatsite:ignores").postMessage({ name: name, ignored: false });
          }
          load(list, label);
          status.textContent = "";
        }).catch(function () { status.textContent = section.dataset.failed; });
      });
      item.append(document.createTextNode(name + " "), button);
      list.append(item);
    });
  }

  function load(list, label) {
    fetch(list.dataset.listUrl, { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(String(response.status)); return response.json(); })
      .then(function (data) { fill(list, data[list.dataset.key] || [], label); })
      .catch(function () { status.textContent = section.dataset.failed; });
  }

  load(document.getElementById("ignored-list"), section.dataset.unignore);
  load(document.getElementById("blocked-list"), section.dataset.unblock);
})();
