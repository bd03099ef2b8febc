/* Registers the service worker (static/js/sw.js, served at /sw.js), once the
 * page has loaded so that it never competes with the page's own requests. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!("serviceWorker" in navigator) || !script) return;
  var url = script.dataset.worker;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(url, { scope: "/" }).catch(function () {});
  });
})();
