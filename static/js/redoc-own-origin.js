// ReDoc 2 (from drf-spectacular-sidecar) draws Redocly's logo from cdn.redoc.ly under its menu, which the
// Content-Security-Policy blocks: the docs load from our origin only. Loaded before ReDoc, this empties that
// one image source, so nothing is requested and ReDoc's own error handler leaves the logo out.
// tests/browser/test_api_docs.py fails if a new ReDoc requests anything elsewhere.
(function () {
  "use strict";
  var foreign = function (value) { return String(value).indexOf("https://cdn.redoc.ly/") === 0; };
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && foreign(value)) value = "";
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) { src.set.call(this, foreign(value) ? "" : value); }
  });
})();
