/* kosodate: the family page and the widget share this one UI. No framework; DOM built with textContent only
 * (shop data never goes through innerHTML). Exposes window.Kosodate.mount(container, options). */
(function () {
  "use strict";

  const TEXT = {
    ja: {
      title: "子育て応援パスポート お店さがし",
      switchLang: "English",
      switchLangLabel: "Switch to English",
      skip: "検索結果へ移動",
      searchLabel: "お店の名前・キーワード（ひらがな・カタカナ・漢字・ローマ字）",
      searchPlaceholder: "例：はまなす、ベーカリー、cafe",
      where: "探す場所",
      nearMe: "現在地から探す",
      locating: "現在地を確認しています…",
      geoFailed: "現在地を使えませんでした。市区町村を選ぶか、地図をタップしてください。",
      geoMissing: "このブラウザーでは現在地を使えません。市区町村を選ぶか、地図をタップしてください。",
      pickMunicipality: "市区町村から選ぶ",
      municipalityNone: "（選んでください）",
      pointDefault: "地図の中心から近い順",
      pointGeo: "現在地から近い順",
      pointMap: "地図でタップした地点から近い順",
      pointMunicipality: "{name}から近い順",
      pointNone: "場所を限定せずに検索しています",
      mapHint: "地図をタップすると、その地点から探します。",
      radius: "範囲",
      categories: "特典の種類",
      amenities: "設備・サービス",
      card: "わたしのカード",
      cardProgramme: "持っているカード",
      cardNone: "指定しない",
      multiChild: "多子世帯カードも持っている",
      cardHint: "カードで受けられる特典があるお店だけを表示します。",
      results: "検索結果",
      count: "{n}件のお店が見つかりました",
      countMore: "近い順に{n}件を表示しています",
      loading: "検索しています…",
      slow: "時間がかかっています。しばらくお待ちください…",
      emptyRadius: "{r}以内には見つかりませんでした。",
      widen: "範囲を{r}に広げる",
      everywhere: "場所を限定せずに探す",
      empty: "見つかりませんでした。キーワードや条件を変えてみてください。",
      needInput: "キーワードを入力するか、場所を選んでください。",
      offline: "サーバーに接続できません。通信状況を確認して、もう一度お試しください。",
      serverError: "検索できませんでした（{status}）：{detail}",
      retry: "もう一度試す",
      showDetail: "{name} の詳細",
      back: "一覧に戻る",
      distance: "距離",
      hours: "営業時間",
      closed: "定休日",
      phone: "電話",
      address: "住所",
      website: "ウェブサイト",
      perks: "特典・サービス",
      precision: "位置の精度",
      programme: "パスポート",
      cards: "使えるカード",
      tags: "分類とその理由",
      source: "データの出典",
      cardRequired: "カードの提示が必要な特典があります",
      cardNotRequired: "カードがなくても受けられるサービスです",
      detailFailed: "詳細を読み込めませんでした。",
      mapUnavailable: "地図を表示できません。一覧からお店を選べます。",
      mapLabel: "お店の地図",
      here: "検索の中心",
      metres: "{n} m",
      km: "{n} km",
      gsi: "地理院タイル",
      poweredBy: "子育て応援パスポート協賛店検索",
    },
    en: {
      title: "Child-rearing passport: find a shop",
      switchLang: "日本語",
      switchLangLabel: "日本語に切り替える",
      skip: "Skip to results",
      searchLabel: "Shop name or keyword (kana, kanji or romaji)",
      searchPlaceholder: "e.g. はまなす, bakery, cafe",
      where: "Where",
      nearMe: "Near me",
      locating: "Finding your location…",
      geoFailed: "Your location is not available. Pick a municipality or tap the map.",
      geoMissing: "This browser cannot share your location. Pick a municipality or tap the map.",
      pickMunicipality: "Pick a municipality",
      municipalityNone: "(choose one)",
      pointDefault: "Nearest to the map centre first",
      pointGeo: "Nearest to you first",
      pointMap: "Nearest to the point you tapped first",
      pointMunicipality: "Nearest to {name} first",
      pointNone: "Searching everywhere",
      mapHint: "Tap the map to search from that point.",
      radius: "Radius",
      categories: "Kind of perk",
      amenities: "Facilities and services",
      card: "My card",
      cardProgramme: "The card I hold",
      cardNone: "Any",
      multiChild: "I also hold the multi-child card",
      cardHint: "Shows only shops whose perks apply to your card.",
      results: "Results",
      count: "{n} shops found",
      countMore: "Showing the nearest {n}",
      loading: "Searching…",
      slow: "This is taking a while, please wait…",
      emptyRadius: "Nothing within {r}.",
      widen: "Widen to {r}",
      everywhere: "Search everywhere",
      empty: "Nothing found. Try another keyword or fewer filters.",
      needInput: "Type a keyword or choose a place.",
      offline: "Cannot reach the server. Check your connection and try again.",
      serverError: "The search failed ({status}): {detail}",
      retry: "Try again",
      showDetail: "Details of {name}",
      back: "Back to the list",
      distance: "Distance",
      hours: "Hours",
      closed: "Closed",
      phone: "Phone",
      address: "Address",
      website: "Website",
      perks: "Perks and services",
      precision: "Location precision",
      programme: "Passport",
      cards: "Cards accepted",
      tags: "Tags and why",
      source: "Data source",
      cardRequired: "Some perks need the card to be shown",
      cardNotRequired: "Open to every family, card or not",
      detailFailed: "Could not load the details.",
      mapUnavailable: "The map cannot be shown. Pick a shop from the list.",
      mapLabel: "Map of the shops",
      here: "Search centre",
      metres: "{n} m",
      km: "{n} km",
      gsi: "GSI Tiles (地理院タイル)",
      poweredBy: "Child-rearing passport shop search",
    },
  };

  const LABELS = {
    ja: {
      discount: "お得",
      consideration: "こころ配り",
      facility: "設備",
      nursing_room: "授乳室",
      diaper_changing: "おむつ替え",
      hot_water: "ミルクのお湯",
      kids_corner: "キッズコーナー",
      kids_menu: "お子様メニュー",
      kids_toilet: "こども用トイレ",
      zashiki: "座敷",
      luggage: "荷物預かり",
      stroller_lending: "ベビーカー貸出",
      source: "登録データの座標",
      building: "建物の位置",
      block: "街区（番地）",
      town: "町・丁目（おおよそ）",
      municipality: "市区町村（おおよそ）",
    },
    en: {
      discount: "Discount",
      consideration: "Consideration",
      facility: "Facility",
      nursing_room: "Nursing room",
      diaper_changing: "Diaper changing",
      hot_water: "Hot water for milk",
      kids_corner: "Kids' corner",
      kids_menu: "Kids' menu",
      kids_toilet: "Kids' toilet",
      zashiki: "Tatami seating",
      luggage: "Luggage holding",
      stroller_lending: "Stroller lending",
      source: "as registered",
      building: "building",
      block: "block",
      town: "town (approximate)",
      municipality: "municipality (approximate)",
    },
  };

  const CATEGORIES = ["discount", "consideration", "facility"];
  const AMENITIES = ["nursing_room", "diaper_changing", "hot_water", "kids_corner"];
  const RADII = [500, 1000, 3000, 10000, 30000];
  const DEBOUNCE_MS = 250;
  const SLOW_MS = 2500;
  const LIMIT = 50;
  const CARD_KEY = "kosodate.card";
  const LANG_KEY = "kosodate.lang";

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, (_, k) => (vars && k in vars ? String(vars[k]) : ""));
  }

  function safeUrl(url) {
    try {
      const u = new URL(url);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (_) {
      return null;
    }
  }

  function storage(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (_) {
      /* private mode or storage blocked: the page works without it */
    }
    return null;
  }

  /* ---------- a small Mapbox Vector Tile reader, enough to draw the boundaries layer ---------- */
  function readVarint(buf, pos) {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      byte = buf[pos.i++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80 && pos.i < buf.length);
    return result;
  }

  function eachField(buf, start, end, visit) {
    const pos = { i: start };
    while (pos.i < end) {
      const key = readVarint(buf, pos);
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) visit(field, readVarint(buf, pos));
      else if (wire === 2) {
        const len = readVarint(buf, pos);
        visit(field, buf.subarray(pos.i, pos.i + len));
        pos.i += len;
      } else if (wire === 1) pos.i += 8;
      else if (wire === 5) pos.i += 4;
      else throw new Error("bad protobuf wire type");
    }
  }

  const zigzag = (n) => (n % 2 === 1 ? -(n + 1) / 2 : n / 2);

  /* Polygon rings of every feature in one layer, in tile units (0..extent). */
  function tileRings(bytes, wanted) {
    const out = { extent: 4096, rings: [] };
    eachField(bytes, 0, bytes.length, (field, layer) => {
      if (field !== 3) return;
      let name = "";
      const features = [];
      eachField(layer, 0, layer.length, (f, v) => {
        if (f === 1) name = new TextDecoder().decode(v);
        else if (f === 5) out.extent = v;
        else if (f === 2) features.push(v);
      });
      if (name !== wanted) return;
      for (const feature of features) {
        let type = 0;
        let geometry = null;
        eachField(feature, 0, feature.length, (f, v) => {
          if (f === 3) type = v;
          else if (f === 4) geometry = v;
        });
        if (type !== 3 || !geometry) continue;
        const pos = { i: 0 };
        let x = 0;
        let y = 0;
        let ring = null;
        while (pos.i < geometry.length) {
          const command = readVarint(geometry, pos);
          const id = command & 7;
          const count = command >> 3;
          if (id === 7) {
            if (ring) out.rings.push(ring);
            ring = null;
            continue;
          }
          for (let k = 0; k < count; k++) {
            x += zigzag(readVarint(geometry, pos));
            y += zigzag(readVarint(geometry, pos));
            if (id === 1) ring = [[x, y]];
            else if (ring) ring.push([x, y]);
          }
        }
      }
    });
    return out;
  }

  /* Our municipal boundaries (/tiles, when this server has them) as the map's base: no external tiles. */
  function boundaryLayer(L, tileUrl) {
    const Layer = L.GridLayer.extend({
      createTile(coords, done) {
        const size = this.getTileSize();
        const canvas = document.createElement("canvas");
        canvas.width = size.x;
        canvas.height = size.y;
        fetch(tileUrl(coords.z, coords.x, coords.y))
          .then((r) => (r.ok ? r.arrayBuffer() : null))
          .then((body) => {
            if (body) {
              const tile = tileRings(new Uint8Array(body), "boundaries");
              const ctx = canvas.getContext("2d");
              const scale = size.x / tile.extent;
              ctx.beginPath();
              for (const ring of tile.rings) {
                ring.forEach(([px, py], n) => (n ? ctx.lineTo(px * scale, py * scale) : ctx.moveTo(px * scale, py * scale)));
                ctx.closePath();
              }
              ctx.fillStyle = "#f6f4ee";
              ctx.fill("evenodd");
              ctx.strokeStyle = "#8f9bab";
              ctx.lineWidth = 1;
              ctx.stroke();
            }
            done(null, canvas);
          })
          .catch(() => done(null, canvas));
        return canvas;
      },
    });
    return new Layer({ minZoom: 4, maxNativeZoom: 14, maxZoom: 18 });
  }

  let uid = 0;

  function mount(container, options) {
    const opts = Object.assign({ base: "", mode: "page", lang: "ja" }, options || {});
    const L = opts.L || (window.Kosodate && window.Kosodate.L) || window.L;
    const isPage = opts.mode === "page";
    const id = (name) => `k${uid}-${name}`;
    uid += 1;
    const api = (path) => `${opts.base}${path}`;

    const state = {
      lang: TEXT[opts.lang] ? opts.lang : "ja",
      q: "",
      point: null,
      pointKind: "default",
      pointName: "",
      radius: opts.radius || 3000,
      categories: new Set(opts.categories || []),
      amenities: new Set(opts.amenities || []),
      programme: opts.programme || "",
      card: "",
      multiChild: false,
      hits: [],
      activeId: null,
      config: null,
      status: "idle",
      error: null,
    };
    if (opts.lat !== undefined && opts.lng !== undefined && !Number.isNaN(opts.lat) && !Number.isNaN(opts.lng)) {
      state.point = { lat: opts.lat, lng: opts.lng };
    }
    if (isPage) {
      const saved = storage(CARD_KEY);
      if (saved) {
        try {
          const card = JSON.parse(saved);
          state.card = typeof card.programme === "string" ? card.programme : "";
          state.multiChild = Boolean(card.multi_child) && Boolean(state.card);
        } catch (_) {
          storage(CARD_KEY, null);
        }
      }
    }

    const t = (key, vars) => fill(TEXT[state.lang][key] || TEXT.ja[key] || key, vars);
    const label = (code) => LABELS[state.lang][code] || code;
    const bindings = [];
    /* Text that follows the language switch: remember the element, the key and the attribute. */
    function tx(el, key, attr, vars) {
      bindings.push({ el, key, attr, vars });
      if (attr) el.setAttribute(attr, t(key, vars));
      else el.textContent = t(key, vars);
      return el;
    }
    const formatDistance = (m) =>
      m < 1000 ? t("metres", { n: Math.round(m) }) : t("km", { n: (m / 1000).toFixed(m < 10000 ? 1 : 0) });
    const formatRadius = (r) => (r < 1000 ? t("metres", { n: r }) : t("km", { n: r / 1000 }));

    /* ---------- skeleton ---------- */
    container.classList.add("k-app", isPage ? "k-page" : "k-widget");
    container.textContent = "";
    const heading = h(isPage ? "h1" : "h2", {});
    const langBtn = h("button", { type: "button", class: "k-btn", lang: state.lang === "ja" ? "en" : "ja" });
    const top = h("header", { class: "k-top" }, heading, langBtn);

    const qInput = h("input", {
      id: id("q"),
      type: "search",
      autocomplete: "off",
      enterkeyhint: "search",
      spellcheck: "false",
      "aria-describedby": id("count"),
    });
    const qLabel = h("label", { for: id("q") });
    const searchBox = h("div", { class: "k-search" }, qLabel, qInput);

    const nearBtn = h("button", { type: "button", class: "k-btn k-btn-primary" });
    const muniSelect = h("select", { id: id("muni") });
    const muniLabel = h("label", { for: id("muni"), class: "k-hint" });
    const whereStatus = h("p", { class: "k-where-status", "aria-live": "polite" });
    const whereLegend = h("legend", {});
    const whereBox = h(
      "fieldset",
      { class: "k-where" },
      whereLegend,
      h("div", { class: "k-row" }, nearBtn),
      h("div", {}, muniLabel, muniSelect),
      whereStatus,
    );

    const radiusLegend = h("legend", {});
    const radiusInputs = RADII.map((r) => {
      const input = h("input", { type: "radio", name: id("radius"), value: r, checked: r === state.radius });
      const text = h("span", {});
      return { r, input, text, el: h("label", { class: "k-radio" }, input, text) };
    });
    const radiusBox = h(
      "fieldset",
      { class: "k-radius" },
      radiusLegend,
      h(
        "div",
        { class: "k-row" },
        radiusInputs.map((x) => x.el),
      ),
    );

    function chipGroup(codes, selected, legendKey) {
      const legend = tx(h("legend", {}), legendKey);
      const chips = codes.map((code) =>
        h("button", {
          type: "button",
          class: "k-chip",
          "data-code": code,
          "aria-pressed": selected.has(code) ? "true" : "false",
        }),
      );
      for (const chip of chips) {
        chip.addEventListener("click", () => {
          const code = chip.dataset.code;
          if (selected.has(code)) selected.delete(code);
          else selected.add(code);
          chip.setAttribute("aria-pressed", selected.has(code) ? "true" : "false");
          search();
        });
      }
      return { chips, el: h("fieldset", {}, legend, h("div", { class: "k-row k-chips" }, chips)) };
    }
    const catChips = chipGroup(CATEGORIES, state.categories, "categories");
    const amenityChips = chipGroup(AMENITIES, state.amenities, "amenities");

    const cardSelect = h("select", { id: id("card") });
    const multiBox = h("input", { type: "checkbox", id: id("multi") });
    const cardSummary = h("summary", {});
    const cardBox = h(
      "details",
      { class: "k-card-box", open: state.card ? true : null },
      cardSummary,
      tx(h("p", { class: "k-hint" }), "cardHint"),
      tx(h("label", { for: id("card") }), "cardProgramme"),
      cardSelect,
      h("label", {}, multiBox, " ", tx(h("span", {}), "multiChild")),
    );

    const controls = h(
      "form",
      { class: "k-controls", role: "search", onsubmit: (e) => e.preventDefault() },
      searchBox,
      isPage ? whereBox : null,
      isPage ? radiusBox : null,
      catChips.el,
      amenityChips.el,
      isPage ? cardBox : null,
    );

    const mapEl = h("div", { class: "k-map", role: "region" });
    const mapNote = h("p", { class: "k-map-note" });
    const mapWrap = h("div", { class: "k-map-wrap" }, mapEl, mapNote);

    const count = h("p", { class: "k-count", id: id("count"), role: "status", "aria-live": "polite" });
    const notice = h("div", { class: "k-notice", hidden: true }); // the status line above announces it
    const list = h("ol", { class: "k-list" });
    const resultsHeading = h("h2", { class: "k-visually-hidden", id: id("results-h") });
    const results = h(
      "section",
      { class: "k-results", id: isPage ? "k-results" : id("results"), "aria-labelledby": id("results-h"), tabindex: "-1" },
      resultsHeading,
      count,
      notice,
      list,
    );
    const detail = h("section", { class: "k-detail", hidden: true, "aria-live": "polite" });
    const credit = isPage ? null : h("p", { class: "k-credit" });
    const side = h("div", { class: "k-side" }, results, detail, credit);

    container.append(top, h("div", { class: "k-layout" }, controls, mapWrap, side));

    /* ---------- map (optional: the list works without it) ---------- */
    let map = null;
    let cluster = null;
    let hereMarker = null;
    let radiusCircle = null;
    let lastBounds = null;
    let userMoved = false;
    const markers = new Map();
    function setupMap() {
      if (!L || typeof L.map !== "function") {
        mapEl.hidden = true;
        tx(mapNote, "mapUnavailable");
        return;
      }
      try {
        const centre = state.point || (state.config && { lat: state.config.map.center[0], lng: state.config.map.center[1] });
        map = L.map(mapEl, { zoomControl: true, attributionControl: true, keyboard: true, minZoom: 4, maxZoom: 18 });
        map.setView(centre ? [centre.lat, centre.lng] : [35.68, 139.76], opts.zoom || (state.config ? state.config.map.zoom : 12));
        const gsi = state.config && state.config.map.gsi_url;
        if (gsi) {
          L.tileLayer(gsi, {
            maxZoom: 18,
            attribution: `<a href="https://maps.gsi.go.jp/development/ichiran.html" target="_blank" rel="noopener">${TEXT[state.lang].gsi}</a>`,
          }).addTo(map);
        }
        map.attributionControl.setPrefix(false);
        if (!gsi) addBoundaries();
        map.on("dragstart", () => {
          userMoved = true;
        });
        if (window.ResizeObserver)
          new ResizeObserver(() => {
            if (!map) return;
            map.invalidateSize(false);
            if (lastBounds && !userMoved) map.fitBounds(lastBounds, { padding: [24, 24], maxZoom: 16, animate: false });
          }).observe(mapEl);
        cluster = typeof L.markerClusterGroup === "function" ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 }) : L.layerGroup();
        cluster.addTo(map);
        map.on("click", (e) => {
          setPoint(e.latlng.lat, e.latlng.lng, "map", "");
          muniSelect.value = "";
        });
        if (isPage) tx(mapNote, "mapHint");
        else mapNote.hidden = true;
        tx(mapEl, "mapLabel", "aria-label");
      } catch (err) {
        if (window.console) window.console.warn("kosodate: map unavailable", err);
        map = null;
        mapEl.hidden = true;
        tx(mapNote, "mapUnavailable");
      }
    }

    /* Ask once whether this server has vector tiles; only then add the boundary base layer. */
    async function addBoundaries() {
      const url = (z, x, y) => api(`/tiles/${z}/${x}/${y}.mvt`);
      const z = Math.min(map.getZoom(), 14);
      const c = map.project(map.getCenter(), z).divideBy(256).floor();
      try {
        const probe = await fetch(url(z, c.x, c.y));
        if (!probe.ok || !map) return;
        const layer = boundaryLayer(L, url);
        layer.addTo(map);
        layer.bringToBack();
        mapEl.dataset.base = "boundaries";
      } catch (_) {
        /* no tiles here: the plain background stays */
      }
    }

    function drawMarkers() {
      if (!map) return;
      map.invalidateSize(false); /* the widget's stylesheets may have sized the map after it was made */
      cluster.clearLayers();
      markers.clear();
      const bounds = [];
      for (const hit of state.hits) {
        const icon = L.divIcon({ className: "k-marker", iconSize: [18, 18] });
        const marker = L.marker([hit.lat, hit.lng], { icon, title: hit.name, alt: hit.name, keyboard: false });
        marker.on("click", () => showDetail(hit.id, null));
        markers.set(hit.id, marker);
        cluster.addLayer(marker);
        bounds.push([hit.lat, hit.lng]);
      }
      if (hereMarker) hereMarker.remove();
      if (radiusCircle) radiusCircle.remove();
      hereMarker = radiusCircle = null;
      if (state.point) {
        hereMarker = L.marker([state.point.lat, state.point.lng], {
          icon: L.divIcon({ className: "k-here", iconSize: [14, 14] }),
          title: t("here"),
          keyboard: false,
          interactive: false,
          zIndexOffset: -1000, /* shops stay on top of the search centre */
        }).addTo(map);
        radiusCircle = L.circle([state.point.lat, state.point.lng], {
          radius: state.radius,
          color: "#1a5fb4",
          weight: 1,
          fillOpacity: 0.04,
          interactive: false,
        }).addTo(map);
        bounds.push([state.point.lat, state.point.lng]);
      }
      lastBounds = bounds.length > 1 ? bounds : null;
      if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
      else if (bounds.length === 1) map.setView(bounds[0], Math.max(map.getZoom(), 14));
    }

    function highlight(shopId) {
      state.activeId = shopId;
      for (const li of list.children) li.dataset.active = String(Number(li.dataset.id) === shopId);
      for (const [mid, marker] of markers) {
        const el = marker.getElement && marker.getElement();
        if (el) el.classList.toggle("k-marker-active", mid === shopId);
      }
      const marker = markers.get(shopId);
      if (map && marker && cluster.zoomToShowLayer) cluster.zoomToShowLayer(marker, () => {});
    }

    /* ---------- search ---------- */
    let debounce = null;
    let controller = null;
    let seq = 0;
    let slowTimer = null;

    function params() {
      const p = new URLSearchParams();
      if (state.q.trim()) p.set("q", state.q.trim());
      if (state.point) {
        p.set("lat", state.point.lat.toFixed(6));
        p.set("lng", state.point.lng.toFixed(6));
        p.set("radius_m", String(state.radius));
      }
      for (const c of state.categories) p.append("category", c);
      for (const a of state.amenities) p.append("amenity", a);
      if (state.programme) p.set("programme", state.programme);
      if (state.card) {
        p.set("card", state.card);
        if (state.multiChild) p.set("multi_child", "true");
      }
      p.set("limit", String(LIMIT));
      return p;
    }

    function scheduleSearch() {
      clearTimeout(debounce);
      debounce = setTimeout(search, DEBOUNCE_MS);
    }

    async function search() {
      clearTimeout(debounce);
      if (controller) controller.abort();
      const p = params();
      if (!p.has("q") && !p.has("lat") && !p.has("programme")) {
        state.hits = [];
        state.status = "need-input";
        render();
        return;
      }
      const mine = ++seq;
      controller = new AbortController();
      state.status = "loading";
      results.setAttribute("aria-busy", "true");
      clearTimeout(slowTimer);
      slowTimer = setTimeout(() => {
        if (mine === seq && state.status === "loading") {
          state.status = "slow";
          renderStatus();
        }
      }, SLOW_MS);
      renderStatus();
      try {
        const res = await fetch(api(`/v1/shops?${p}`), { signal: controller.signal, headers: { Accept: "application/json" } });
        if (mine !== seq) return;
        if (!res.ok) {
          let detailText = res.statusText;
          try {
            const problem = await res.json();
            detailText = problem.detail || problem.title || detailText;
          } catch (_) {
            /* not problem+json: keep the status text */
          }
          state.status = "error";
          state.error = { status: res.status, detail: detailText };
          state.hits = [];
        } else {
          const body = await res.json();
          if (mine !== seq) return;
          state.hits = body.hits || [];
          state.total = typeof body.total === "number" ? body.total : null;
          state.status = "done";
        }
      } catch (err) {
        if (err && err.name === "AbortError") return;
        if (mine !== seq) return;
        state.status = "offline";
        state.hits = [];
      } finally {
        if (mine === seq) {
          clearTimeout(slowTimer);
          results.removeAttribute("aria-busy");
        }
      }
      render();
      enrich(mine);
    }

    /* ---------- rendering ---------- */
    function renderStatus() {
      notice.hidden = true;
      notice.textContent = "";
      delete notice.dataset.kind;
      if (state.status === "loading") count.textContent = t("loading");
      else if (state.status === "slow") count.textContent = t("slow");
    }

    function noticeWith(kind, message, actions) {
      notice.hidden = false;
      notice.dataset.kind = kind;
      notice.textContent = "";
      notice.append(h("p", { text: message }));
      if (actions.length) notice.append(h("div", { class: "k-row" }, actions));
    }

    function render() {
      renderStatus();
      list.textContent = "";
      const n = state.hits.length;
      if (state.status === "offline") {
        count.textContent = t("offline");
        noticeWith("error", t("offline"), [h("button", { type: "button", class: "k-btn", text: t("retry"), onclick: search })]);
      } else if (state.status === "error") {
        const message = t("serverError", state.error);
        count.textContent = message;
        noticeWith("error", message, [h("button", { type: "button", class: "k-btn", text: t("retry"), onclick: search })]);
      } else if (state.status === "need-input") {
        count.textContent = t("needInput");
      } else if (n === 0 && state.status === "done") {
        const actions = [];
        if (state.point) {
          const wider = RADII.find((r) => r > state.radius && (!state.config || r <= state.config.map.max_radius_m));
          if (wider)
            actions.push(
              h("button", {
                type: "button",
                class: "k-btn k-btn-primary",
                "data-action": "widen",
                text: t("widen", { r: formatRadius(wider) }),
                onclick: () => setRadius(wider),
              }),
            );
          if (state.q.trim() && isPage)
            actions.push(
              h("button", { type: "button", class: "k-btn", "data-action": "everywhere", text: t("everywhere"), onclick: () => setPoint(null, null, "none", "") }),
            );
          count.textContent = t("emptyRadius", { r: formatRadius(state.radius) });
          noticeWith("empty", t("emptyRadius", { r: formatRadius(state.radius) }), actions);
        } else {
          count.textContent = t("empty");
        }
      } else if (state.status === "done") {
        count.textContent = n >= LIMIT ? `${t("count", { n: state.total || n })} ${t("countMore", { n })}` : t("count", { n });
      }
      for (const hit of state.hits) list.append(renderHit(hit));
      /* The list first; the map a frame later, so the results are readable as soon as they arrive. */
      const drawn = state.hits;
      window.requestAnimationFrame(() => {
        if (drawn !== state.hits) return;
        drawMarkers();
        if (state.activeId !== null) highlight(state.activeId);
      });
    }

    function tagList(hit) {
      const items = [];
      for (const c of hit.categories || []) items.push(h("li", { class: "k-tag", "data-kind": "category", text: label(c) }));
      for (const a of hit.amenities || []) items.push(h("li", { class: "k-tag", "data-kind": "amenity", text: label(a) }));
      return items.length ? h("ul", { class: "k-tags" }, items) : null;
    }

    function contactLine(shop) {
      const parts = [];
      if (shop.hours) parts.push(h("span", {}, `${t("hours")}: ${shop.hours}`));
      if (shop.closed_days) parts.push(h("span", {}, ` / ${t("closed")}: ${shop.closed_days}`));
      if (shop.phone) {
        if (parts.length) parts.push(" / ");
        parts.push(`${t("phone")}: `, h("a", { href: `tel:${shop.phone.replace(/[^0-9+]/g, "")}`, text: shop.phone }));
      }
      return parts;
    }

    function renderHit(hit) {
      const pick = h("button", { type: "button", class: "k-pick", "aria-label": t("showDetail", { name: hit.name }) }, hit.name);
      pick.addEventListener("click", () => showDetail(hit.id, pick));
      const meta = [];
      if (typeof hit.distance_m === "number") meta.push(`${t("distance")}: ${formatDistance(hit.distance_m)}`);
      if (hit.precision) meta.push(`${t("precision")}: ${label(hit.precision)}`);
      const contact = h("p", { class: "k-meta k-contact" }, contactLine(hit));
      return h(
        "li",
        { class: "k-item", "data-id": hit.id },
        h(
          "article",
          {},
          h("h3", {}, pick),
          h("p", { class: "k-meta" }, meta.join(" ・ ")),
          tagList(hit),
          hit.perk_text ? h("p", { class: "k-perk", text: hit.perk_text }) : null,
          contact,
          h("p", { class: "k-meta", text: hit.address }),
        ),
      );
    }

    /* Hits carry no phone or hours; fill them in from the detail (cached) for the shops on screen. */
    const details = new Map();
    async function fetchDetail(shopId) {
      if (details.has(shopId)) return details.get(shopId);
      const promise = fetch(api(`/v1/shops/${shopId}`), { headers: { Accept: "application/json" } }).then((r) => {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      });
      details.set(shopId, promise);
      promise.catch(() => details.delete(shopId));
      return promise;
    }

    async function enrich(mine) {
      const queue = state.hits.filter((hit) => !hit.phone && !hit.hours).slice(0, 20);
      const worker = async () => {
        while (queue.length && mine === seq) {
          const hit = queue.shift();
          try {
            const shop = await fetchDetail(hit.id);
            if (mine !== seq) return;
            const li = list.querySelector(`li[data-id="${hit.id}"] .k-contact`);
            if (li) {
              li.textContent = "";
              li.append(...contactLine(shop));
            }
          } catch (_) {
            /* the list stays usable without phone and hours */
          }
        }
      };
      await Promise.all([worker(), worker(), worker()]);
    }

    let returnFocus = null;
    async function showDetail(shopId, from) {
      returnFocus = from || list.querySelector(`li[data-id="${shopId}"] .k-pick`);
      highlight(shopId);
      detail.hidden = false;
      results.hidden = true;
      detail.textContent = "";
      detail.append(h("p", { text: t("loading") }));
      let shop;
      try {
        shop = await fetchDetail(shopId);
      } catch (_) {
        detail.textContent = "";
        detail.append(h("p", { text: t("detailFailed") }), backButton());
        return;
      }
      renderDetail(shop);
    }

    function backButton() {
      return h("button", { type: "button", class: "k-btn", text: t("back"), onclick: closeDetail });
    }

    function closeDetail() {
      detail.hidden = true;
      results.hidden = false;
      detail.textContent = "";
      const target = returnFocus && returnFocus.isConnected ? returnFocus : results;
      target.focus();
    }

    function renderDetail(shop) {
      detail.textContent = "";
      const title = h("h2", { tabindex: "-1", text: shop.name });
      const rows = [];
      const row = (key, value) => {
        if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return;
        rows.push(h("dt", { text: t(key) }), h("dd", {}, value));
      };
      const hit = state.hits.find((x) => x.id === shop.id);
      row("address", [shop.postal_code ? `〒${shop.postal_code} ` : "", shop.address, shop.building ? ` ${shop.building}` : ""].join(""));
      if (hit && typeof hit.distance_m === "number") row("distance", formatDistance(hit.distance_m));
      row("hours", shop.hours);
      row("closed", shop.closed_days);
      if (shop.phone) row("phone", h("a", { href: `tel:${shop.phone.replace(/[^0-9+]/g, "")}`, text: shop.phone }));
      const url = shop.url && safeUrl(shop.url);
      if (url) row("website", h("a", { href: url, rel: "noopener noreferrer", target: "_blank", text: url }));
      row("perks", shop.perk_text);
      row("programme", shop.programme_name);
      row("cards", (shop.cards || []).join(", "));
      if (shop.card_required === true) row("cards", t("cardRequired"));
      if (shop.card_required === false) row("cards", t("cardNotRequired"));
      row("precision", shop.precision ? label(shop.precision) : null);
      row("source", shop.source);
      const tags = (shop.tags || []).map((tag) =>
        h("li", {}, h("span", { class: "k-tag", "data-kind": tag.kind, text: label(tag.value) }), " ", h("span", { class: "k-why", text: tag.why })),
      );
      detail.append(
        title,
        tagList(shop),
        h("dl", {}, rows),
        tags.length ? h("h3", { text: t("tags") }) : null,
        tags.length ? h("ul", { class: "k-list" }, tags) : null,
        h("div", { class: "k-row" }, backButton()),
      );
      title.focus();
    }

    /* ---------- controls ---------- */
    function setPoint(lat, lng, kind, name) {
      state.point = lat === null ? null : { lat, lng };
      state.pointKind = kind;
      state.pointName = name;
      renderWhere();
      search();
    }

    function setRadius(r) {
      state.radius = r;
      for (const x of radiusInputs) x.input.checked = x.r === r;
      search();
    }

    function renderWhere() {
      const key = { default: "pointDefault", geo: "pointGeo", map: "pointMap", municipality: "pointMunicipality", none: "pointNone" }[state.pointKind];
      whereStatus.textContent = state.point || state.pointKind === "none" ? t(key, { name: state.pointName }) : "";
    }

    qInput.addEventListener("input", () => {
      state.q = qInput.value;
      scheduleSearch();
    });
    qInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        search();
      }
    });
    nearBtn.addEventListener("click", () => {
      if (!navigator.geolocation) {
        whereStatus.textContent = t("geoMissing");
        muniSelect.focus();
        return;
      }
      whereStatus.textContent = t("locating");
      navigator.geolocation.getCurrentPosition(
        (pos) => {
          muniSelect.value = "";
          setPoint(pos.coords.latitude, pos.coords.longitude, "geo", "");
        },
        () => {
          whereStatus.textContent = t("geoFailed");
          muniSelect.focus();
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 },
      );
    });
    muniSelect.addEventListener("change", () => {
      const m = state.config && state.config.municipalities.find((x) => x.code === muniSelect.value);
      if (m) setPoint(m.lat, m.lng, "municipality", `${m.prefecture || ""}${m.name || m.code}`);
    });
    for (const x of radiusInputs) x.input.addEventListener("change", () => setRadius(x.r));
    function saveCard() {
      state.card = cardSelect.value;
      multiBox.disabled = !state.card;
      if (!state.card) multiBox.checked = false;
      state.multiChild = multiBox.checked;
      storage(CARD_KEY, state.card ? JSON.stringify({ programme: state.card, multi_child: state.multiChild }) : null);
      search();
    }
    cardSelect.addEventListener("change", saveCard);
    multiBox.addEventListener("change", saveCard);
    langBtn.addEventListener("click", () => {
      setLang(state.lang === "ja" ? "en" : "ja");
      if (isPage) storage(LANG_KEY, state.lang);
    });

    function fillChoices() {
      const cfg = state.config;
      muniSelect.textContent = "";
      muniSelect.append(h("option", { value: "", text: t("municipalityNone") }));
      for (const m of (cfg && cfg.municipalities) || []) {
        muniSelect.append(h("option", { value: m.code, text: `${m.prefecture || ""}${m.name || m.code}（${m.shops}）` }));
      }
      const keep = state.card;
      cardSelect.textContent = "";
      cardSelect.append(h("option", { value: "", text: t("cardNone") }));
      for (const p of (cfg && cfg.programmes) || []) {
        const name = state.lang === "en" && p.name_en ? p.name_en : p.name;
        cardSelect.append(h("option", { value: p.code, text: name }));
      }
      cardSelect.value = keep;
      multiBox.checked = state.multiChild;
      multiBox.disabled = !state.card;
    }

    function setLang(lang) {
      state.lang = TEXT[lang] ? lang : "ja";
      if (isPage) document.documentElement.lang = state.lang;
      container.setAttribute("lang", state.lang);
      if (isPage) document.title = t("title");
      for (const b of bindings) {
        if (b.attr) b.el.setAttribute(b.attr, t(b.key, b.vars));
        else b.el.textContent = t(b.key, b.vars);
      }
      langBtn.setAttribute("lang", state.lang === "ja" ? "en" : "ja");
      for (const x of radiusInputs) x.text.textContent = formatRadius(x.r);
      for (const chip of [...catChips.chips, ...amenityChips.chips]) chip.textContent = label(chip.dataset.code);
      cardSummary.textContent = state.card ? `${t("card")}: ${state.card}` : t("card");
      fillChoices();
      renderWhere();
      if (credit) credit.textContent = t("poweredBy");
      if (state.status !== "idle" && state.status !== "loading") render();
      if (!detail.hidden && state.activeId !== null) showDetail(state.activeId, returnFocus);
    }

    tx(heading, "title");
    tx(langBtn, "switchLang");
    tx(langBtn, "switchLangLabel", "aria-label");
    tx(qLabel, "searchLabel");
    tx(qInput, "searchPlaceholder", "placeholder");
    tx(nearBtn, "nearMe");
    tx(muniLabel, "pickMunicipality");
    tx(whereLegend, "where");
    tx(radiusLegend, "radius");
    tx(resultsHeading, "results");
    tx(mapEl, "mapLabel", "aria-label");

    /* ---------- start ---------- */
    async function loadConfig() {
      try {
        const res = await fetch(api("/web/config.json"), { headers: { Accept: "application/json" } });
        return res.ok ? await res.json() : null;
      } catch (_) {
        return null;
      }
    }

    /* The page gets the map defaults in its HTML, so the first search need not wait for the config
     * (municipalities and programmes for the pickers arrive alongside). The widget fetches it first. */
    async function start() {
      let pending = null;
      if (opts.map) {
        state.config = { map: opts.map, programmes: [], municipalities: [] };
        pending = loadConfig();
      } else {
        state.config = await loadConfig();
        if (!state.config) {
          setupMap();
          setLang(state.lang);
          state.status = "offline";
          render();
          return;
        }
      }
      if (!state.point && !(opts.programme && opts.lat === undefined)) {
        const [lat, lng] = state.config.map.center;
        state.point = { lat, lng };
        if (!opts.radius) state.radius = state.config.map.radius_m;
      }
      for (const x of radiusInputs) x.input.checked = x.r === state.radius;
      setLang(state.lang);
      const first = search(); /* the request goes out before the map library does its set-up work */
      setupMap();
      drawMarkers();
      if (pending) {
        const cfg = await pending;
        if (cfg) {
          state.config = cfg;
          fillChoices();
        }
      }
      await first;
    }
    start();

    return {
      search,
      setLang,
      setPoint,
      state,
    };
  }

  window.Kosodate = window.Kosodate || {};
  window.Kosodate.mount = mount;
  window.Kosodate.TEXT = TEXT;
  window.Kosodate.tileRings = tileRings;
})();
