/* The moderators' queue badge: refreshes the counts every 20 seconds and
 * flags the page title while urgent reports wait. The counts come from
 * GET /api/moderation/queue/ (OTP-verified staff only). */
(function () {
  "use strict";
  var REFRESH_MS = 20000;
  var badge = document.querySelector(".moderation-badge");
  if (!badge || !window.fetch) return;
  var title = document.title;

  function show(counts) {
    Object.keys(counts).forEach(function (name) {
      var span = badge.querySelector('[data-count="' + name + '"]');
      if (span) span.textContent = String(counts[name]);
    });
    document.title = (counts.urgent ? "(" + counts.urgent + "!) " : "") + title;
    badge.classList.toggle("urgent", counts.urgent > 0);
    if ("overdue" in counts) badge.classList.toggle("overdue", counts.overdue > 0);
  }

  function refresh() {
    fetch(badge.dataset.queueUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) { if (counts) show(counts); })
      .catch(function () {});
  }

  function initial(name) {
    var span = badge.querySelector('[data-count="' + name + '"]');
    return span ? parseInt(span.textContent, 10) : 0;
  }
  show({ urgent: initial("urgent"), overdue: initial("overdue") });
  setInterval(refresh, REFRESH_MS);
})();
