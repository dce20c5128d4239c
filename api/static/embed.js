/* The widget as its own page (/embed?programme=&lat=&lng=&zoom=&category=&amenity=&lang=), for iframes. */
(function () {
  "use strict";
  const root = document.getElementById("kosodate");
  if (!root || !window.Kosodate) return;
  const p = new URLSearchParams(window.location.search);
  const num = (v) => (v === null || v === "" ? undefined : Number(v));
  const list = (v) => (v ? v.split(",").map((x) => x.trim()).filter(Boolean) : []);
  window.Kosodate.mount(root, {
    mode: "widget",
    lang: p.get("lang") || "ja",
    programme: p.get("programme") || "",
    lat: num(p.get("lat")),
    lng: num(p.get("lng")),
    zoom: num(p.get("zoom")),
    radius: num(p.get("radius")),
    categories: list(p.get("category")),
    amenities: list(p.get("amenity")),
  });
})();
