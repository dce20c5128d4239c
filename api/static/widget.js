/* kosodate widget: one script tag renders the shop finder inside a Shadow DOM on any page.
 *
 *   <script src="https://API-HOST/widget.js" data-programme="kanagawa" data-lat="35.3387" data-lng="139.4871"
 *           data-zoom="13" data-category="facility" data-lang="ja" async></script>
 *
 * Everything (the map library too) comes from the API host; the host page's styles do not reach in and
 * ours do not reach out. A host page that already has Leaflet keeps its own `L` (the widget then uses it,
 * without clustering); otherwise the widget loads Leaflet once, which defines `window.L`. The widget talks
 * only to the API host (which must list this site in KOSODATE_API_CORS_ORIGINS). */
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const base = new URL(script.src, document.baseURI).origin;
  const d = script.dataset;
  const ns = (window.Kosodate = window.Kosodate || {});

  function load(src) {
    return new Promise((resolve, reject) => {
      const el = document.createElement("script");
      el.src = `${base}/static/${src}`;
      el.async = false;
      el.onload = () => resolve();
      el.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.appendChild(el);
    });
  }

  function libraries() {
    if (!ns.loading) {
      if (window.L && typeof window.L.map === "function") {
        /* The host page has its own Leaflet: use it as it is (plain markers, no plugin added to it). */
        ns.L = window.L;
        ns.loading = Promise.resolve();
      } else {
        /* Leaflet and its cluster plugin look `L` up globally at run time, so ours stays as window.L. */
        ns.loading = load("vendor/leaflet.js")
          .then(() => load("vendor/leaflet.markercluster.js"))
          .then(() => {
            ns.L = window.L;
          })
          .catch(() => {
            ns.L = null; /* no map: the list still works */
          });
      }
      ns.loading = ns.loading.then(() => (ns.mount ? undefined : load("ui.js")));
    }
    return ns.loading;
  }

  const host = document.createElement("div");
  host.className = "kosodate-widget";
  const target = d.target ? document.querySelector(d.target) : null;
  if (target) target.appendChild(host);
  else script.parentNode.insertBefore(host, script.nextSibling);
  const shadow = host.attachShadow({ mode: "open" });
  /* The map measures its box when it starts: mount once our stylesheets have given it one. */
  const styled = ["vendor/leaflet.css", "vendor/MarkerCluster.css", "vendor/MarkerCluster.Default.css", "ui.css"].map(
    (css) =>
      new Promise((resolve) => {
        const link = document.createElement("link");
        link.rel = "stylesheet";
        link.href = `${base}/static/${css}`;
        link.onload = link.onerror = () => resolve();
        shadow.appendChild(link);
      }),
  );
  const container = document.createElement("div");
  shadow.appendChild(container);

  const num = (v) => (v === undefined || v === "" ? undefined : Number(v));
  const list = (v) => (v ? v.split(",").map((x) => x.trim()).filter(Boolean) : []);
  Promise.all([libraries(), ...styled]).then(() => {
    ns.mount(container, {
      base,
      mode: "widget",
      L: ns.L,
      lang: d.lang || "ja",
      programme: d.programme || "",
      lat: num(d.lat),
      lng: num(d.lng),
      zoom: num(d.zoom),
      radius: num(d.radius),
      categories: list(d.category),
      amenities: list(d.amenity),
    });
  });
})();
