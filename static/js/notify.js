/* Opt-in browser notifications for direct messages, while the tab is hidden.
 *
 * Permission is asked only when the person presses the button, and the choice
 * is remembered in localStorage (a second press turns them off). A notification
 * names the sender only: never the message, which would show on a locked
 * screen. Pages call window.chatsiteNotify.directMessage(name, url).
 */
(function () {
  "use strict";

  var KEY = "chatsite.notifications";
  var supported = "Notification" in window;
  var toggles = document.querySelectorAll("[data-notify-toggle]");
  var template = toggles.length ? toggles[0].dataset.title : "";
  var icon = toggles.length ? toggles[0].dataset.icon : undefined;

  function enabled() {
    try {
      return supported && Notification.permission === "granted" && localStorage.getItem(KEY) === "on";
    } catch (e) { return false; } // storage refused (private mode): no notifications
  }

  function remember(on) {
    try { if (on) localStorage.setItem(KEY, "on"); else localStorage.removeItem(KEY); } catch (e) {}
  }

  function render() {
    toggles.forEach(function (button) {
      var note = button.parentNode.querySelector("[data-notify-note]");
      button.hidden = !supported;
      var denied = supported && Notification.permission === "denied";
      button.disabled = denied;
      button.textContent = enabled() ? button.dataset.disable : button.dataset.enable;
      if (note) note.textContent = denied ? button.dataset.denied : "";
    });
  }

  toggles.forEach(function (button) {
    button.addEventListener("click", function () {
      if (enabled()) { remember(false); render(); return; }
      // Asked here, in the click: browsers refuse requests that no gesture made.
      Notification.requestPermission().then(function (permission) {
        remember(permission === "granted");
        render();
      });
    });
  });

  function directMessage(name, url) {
    if (!enabled() || !document.hidden) return;
    var notification = new Notification(template.replace("%(name)s", name), {
      tag: "dm:" + name, // one notification per conversation, replaced, not stacked
      icon: icon,
    });
    notification.addEventListener("click", function () {
      window.focus();
      if (url && location.pathname !== url) location.href = url;
      notification.close();
    });
  }

  window.chatsiteNotify = { enabled: enabled, directMessage: directMessage };
  render();
})();
