/* The family page: mount the UI on #kosodate. Language: ?lang=, then the last choice, then Japanese. */
(function () {
  "use strict";
  const root = document.getElementById("kosodate");
  if (!root || !window.Kosodate) return;
  const params = new URLSearchParams(window.location.search);
  let saved = null;
  try {
    saved = window.localStorage.getItem("kosodate.lang");
  } catch (_) {
    saved = null;
  }
  const num = (v) => (v === null || v === "" ? undefined : Number(v));
  let map = null;
  try {
    map = root.dataset.map ? JSON.parse(root.dataset.map) : null;
  } catch (_) {
    map = null;
  }
  window.Kosodate.mount(root, {
    mode: "page",
    map,
    lang: params.get("lang") || saved || "ja",
    lat: num(params.get("lat")),
    lng: num(params.get("lng")),
  });
})();
