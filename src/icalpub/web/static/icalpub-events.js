// <icalpub-events topic="training" lang="en" limit="5"></icalpub-events>
// The calendar's next events on any page: reads the JSON Feed this script was
// served beside (feeds answer Access-Control-Allow-Origin: *), renders a list
// and a subscribe link. No framework, no cookies (credentials: "omit"), no
// HTML from the feed (text only). What the element holds is shown until the
// list is ready, and stays when the feed cannot be read: put a link there.
(function () {
  "use strict";
  var script = document.currentScript;
  // This file is <base>/static/icalpub-events.js: the calendar lives at <base>/.
  var base = new URL("../", script ? script.src : location.href);
  var TOPIC = /^[a-z0-9][a-z0-9-]{0,79}$/;
  // Keep in step with the gettext catalogs (tests/test_widget.py compares them).
  var WORDS = {
    lv: { subscribe: "Abonēt kalendāru", none: "Nav gaidāmu notikumu.", cancelled: "Atcelts" },
    en: { subscribe: "Subscribe to the calendar", none: "No upcoming events.", cancelled: "Cancelled" }
  };

  function words(lang) {
    return WORDS[(lang || "").split("-")[0]] || WORDS.en;
  }

  function get(url) {
    return fetch(url, { credentials: "omit", headers: { Accept: "application/feed+json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(url + ": " + response.status); }
        return response.json();
      });
  }

  // The feed in `lang`: the default language's lists the others in `_languages`.
  function feedIn(url, lang) {
    return get(url).then(function (feed) {
      var other = lang && feed.language !== lang && feed._languages && feed._languages[lang];
      return other ? get(other) : feed;
    });
  }

  function ends(item) {
    var event = item._event;
    var last = event.end || event.start;
    if (event.all_day) { return new Date(last + "T23:59:59"); }
    return new Date(last);
  }

  function when(event, lang) {
    if (event.all_day) {
      var options = { dateStyle: "long", timeZone: "UTC" };
      var first = new Intl.DateTimeFormat(lang, options).format(new Date(event.start + "T00:00:00Z"));
      if (!event.end || event.end === event.start) { return first; }
      return first + " – " + new Intl.DateTimeFormat(lang, options).format(new Date(event.end + "T00:00:00Z"));
    }
    // In the event's own zone, as the calendar's pages show it (not the reader's).
    var zone = { dateStyle: "long", timeStyle: "short", timeZone: event.timezone || undefined };
    return new Intl.DateTimeFormat(lang, zone).format(new Date(event.start));
  }

  function element(name, className, text) {
    var node = document.createElement(name);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  class IcalpubEvents extends HTMLElement {
    connectedCallback() {
      var topic = this.getAttribute("topic") || "";
      if (topic && !TOPIC.test(topic)) { return; }
      var lang = this.getAttribute("lang") || document.documentElement.lang || "";
      var limit = Math.max(1, Math.min(50, parseInt(this.getAttribute("limit") || "5", 10) || 5));
      var url = new URL(topic ? "topics/" + topic + ".json" : "feed.json", base);
      var self = this;
      feedIn(url.href, lang).then(function (feed) {
        self.render(feed, topic, feed.language || lang, limit);
      }).catch(function () { /* the fallback content stays */ });
    }

    render(feed, topic, lang, limit) {
      var text = words(lang);
      var now = new Date();
      var items = (feed.items || []).filter(function (item) {
        return item._event && ends(item) >= now;
      }).sort(function (a, b) {
        return new Date(a._event.start) - new Date(b._event.start);
      }).slice(0, limit);
      var list = element("ol", "icalpub-events");
      items.forEach(function (item) {
        var event = item._event;
        var entry = element("li", event.status === "cancelled" ? "event cancelled" : "event");
        var link = element("a", "", item.title);
        link.href = item.url;
        entry.appendChild(link);
        var time = element("time", "when", when(event, lang));
        time.setAttribute("datetime", event.start);
        entry.appendChild(document.createTextNode(" "));
        entry.appendChild(time);
        if (event.location) {
          entry.appendChild(document.createTextNode(" "));
          entry.appendChild(element("span", "where", event.location));
        }
        list.appendChild(entry);
      });
      var subscribe = element("a", "subscribe", text.subscribe);
      var home = new URL(feed.home_page_url || base.href);
      subscribe.href = new URL("subscribe" + (topic ? "?topic=" + topic : ""), home.origin + home.pathname).href;
      var parts = [items.length ? list : element("p", "empty", text.none), element("p", "more")];
      parts[1].appendChild(subscribe);
      this.replaceChildren.apply(this, parts);
      this.setAttribute("data-state", "ready");
    }
  }

  if (!customElements.get("icalpub-events")) {
    customElements.define("icalpub-events", IcalpubEvents);
  }
})();
