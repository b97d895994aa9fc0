// Photos made smaller in the browser before they are uploaded (issue 14 §5). Plain script, no library.
//
// When the unit picks files in a photo field (an <input type=file data-photos>), each photo the browser
// can decode that is larger than MAX_SIDE on its long side or MAX_BYTES in size is drawn onto a canvas
// at most MAX_SIDE px long and re-encoded as JPEG (QUALITY). Anything else is sent exactly as picked:
// small photos (so their bytes, and the server's duplicate-photo check by SHA-256, stay the camera's),
// photos the browser cannot decode (HEIC outside Safari), and every file that is not an image.
//
// Why the EXIF segment is copied: canvas re-encoding drops all metadata, and the server's
// photo-outside-week check reads the photo's EXIF DateTimeOriginal from the JPEG it receives
// (functions/validate/file_kinds.py). So the original JPEG's APP1 "Exif" segment is copied into the new
// JPEG, right after SOI (after its JFIF APP0, where the encoder wrote one), with IFD0's Orientation set
// to 1 (the canvas has already turned the pixels upright) and the Exif IFD's pixel sizes set to the new
// ones. The server then reads the date exactly as from a camera's file and trusts nothing the page says
// apart from the bytes: we chose this over sending the date in a separate form field, which would be a
// second, unverifiable way in for the date. A segment that cannot be parsed safely is left out (the
// photo then has no date, as a screenshot has none). Other metadata (XMP, ICC profile, MPF) is dropped.
//
// Hook for other scripts (upload.js, a direct-to-storage uploader): `huizong.photos.ready()` is a
// Promise that settles when every picked photo has been processed, and `huizong.photos.filesFor(input)`
// then gives the files to send for that input (the smaller ones), or null when it holds no photo field's
// picks. Where the browser allows it (DataTransfer), the input's own `files` are also replaced, so even a
// plain form post sends the smaller photos.
//
// The byte functions at the bottom (exifSegment, withExif) use no DOM, so node can test them too
// (tests/integration/test_photos_js_node.py).
(function (root) {
  "use strict";

  var MAX_SIDE = 2048;
  var MAX_BYTES = 1.5 * 1024 * 1024;
  var QUALITY = 0.85;
  // APP1 is among a JPEG's first segments; 256 KB holds it and its thumbnail with room to spare.
  var HEAD_BYTES = 256 * 1024;
  var TAG_ORIENTATION = 0x0112, TAG_EXIF_IFD = 0x8769, TAG_PIXEL_X = 0xa002, TAG_PIXEL_Y = 0xa003;

  // ---- bytes (no DOM) -------------------------------------------------------------------------------

  function u16(b, at, little) {
    return little ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1];
  }

  function u32(b, at, little) {
    return little
      ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000
      : b[at] * 0x1000000 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
  }

  function put16(b, at, value, little) {
    if (little) { b[at] = value & 0xff; b[at + 1] = (value >> 8) & 0xff; }
    else { b[at] = (value >> 8) & 0xff; b[at + 1] = value & 0xff; }
  }

  function put32(b, at, value, little) {
    for (var i = 0; i < 4; i++) b[little ? at + i : at + 3 - i] = (value >>> (8 * i)) & 0xff;
  }

  // The offset of each marker segment of a JPEG up to its scan: [{marker, at, length}] (length includes
  // the two length bytes). Stops at anything malformed rather than guessing.
  function segments(b) {
    var out = [];
    if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return out;
    var pos = 2;
    for (var n = 0; n < 64 && pos + 4 <= b.length; n++) {
      if (b[pos] !== 0xff) break;
      var marker = b[pos + 1];
      if (marker === 0xff) { pos += 1; continue; }
      if (marker === 0xda || marker === 0xd9) break;
      var length = u16(b, pos + 2, false);
      if (length < 2 || pos + 2 + length > b.length) break;
      out.push({ marker: marker, at: pos, length: length });
      pos += 2 + length;
    }
    return out;
  }

  function isExif(b, seg) {
    var s = seg.at + 4;
    return seg.marker === 0xe1 && seg.length >= 8 + 8 &&
      b[s] === 0x45 && b[s + 1] === 0x78 && b[s + 2] === 0x69 && b[s + 3] === 0x66 && b[s + 4] === 0 && b[s + 5] === 0;
  }

  // Call `visit(entryOffset)` for each 12-byte entry of the IFD at `ifd` (relative to the TIFF header at
  // `tiff`); false when the IFD does not fit before `end` (a malformed or hostile segment).
  function ifdEntries(b, tiff, ifd, end, little, visit) {
    if (ifd < 8 || tiff + ifd + 2 > end) return false;
    var count = u16(b, tiff + ifd, little);
    if (count > 512 || tiff + ifd + 2 + 12 * count > end) return false;
    for (var i = 0; i < count; i++) visit(tiff + ifd + 2 + 12 * i);
    return true;
  }

  // The original's APP1 Exif segment (marker and length included) ready to be copied: Orientation 1,
  // pixel sizes `width`×`height`. null when there is none or it is not a well-formed TIFF.
  function exifSegment(original, width, height) {
    var b = original;
    var list = segments(b);
    for (var i = 0; i < list.length; i++) {
      if (!isExif(b, list[i])) continue;
      var seg = new Uint8Array(b.subarray(list[i].at, list[i].at + 2 + list[i].length));
      var tiff = 10, end = seg.length;
      var little;
      if (seg[tiff] === 0x49 && seg[tiff + 1] === 0x49) little = true;
      else if (seg[tiff] === 0x4d && seg[tiff + 1] === 0x4d) little = false;
      else return null;
      if (u16(seg, tiff + 2, little) !== 42) return null;
      var exifIfd = -1;
      var ok = ifdEntries(seg, tiff, u32(seg, tiff + 4, little), end, little, function (at) {
        var tag = u16(seg, at, little), type = u16(seg, at + 2, little);
        if (tag === TAG_ORIENTATION && type === 3) put16(seg, at + 8, 1, little);
        if (tag === TAG_EXIF_IFD && (type === 4 || type === 13)) exifIfd = u32(seg, at + 8, little);
      });
      if (!ok) return null;
      if (exifIfd >= 0) {
        ifdEntries(seg, tiff, exifIfd, end, little, function (at) {
          var tag = u16(seg, at, little), type = u16(seg, at + 2, little);
          var size = tag === TAG_PIXEL_X ? width : tag === TAG_PIXEL_Y ? height : -1;
          if (size < 0 || !width) return;
          if (type === 3 && size < 0x10000) { put16(seg, at + 8, size, little); put16(seg, at + 10, 0, little); }
          else if (type === 4) put32(seg, at + 8, size, little);
        });
      }
      return seg;
    }
    return null;
  }

  // `jpeg` with `segment` inserted after SOI, or after a JFIF APP0 that directly follows it (both the
  // JFIF and the Exif specifications want their segment first; readers accept this order).
  function withExif(jpeg, segment) {
    if (!segment || jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return jpeg;
    var list = segments(jpeg);
    // a re-encoded JPEG never carries Exif of its own; if one does, it is left as it is
    for (var i = 0; i < list.length; i++) if (isExif(jpeg, list[i])) return jpeg;
    var at = 2;
    if (list.length && list[0].marker === 0xe0) at = list[0].at + 2 + list[0].length;
    var out = new Uint8Array(jpeg.length + segment.length);
    out.set(jpeg.subarray(0, at), 0);
    out.set(segment, at);
    out.set(jpeg.subarray(at), at + segment.length);
    return out;
  }

  // The orientation the original's EXIF asks for (1 when none).
  function orientation(original) {
    var list = segments(original);
    for (var i = 0; i < list.length; i++) {
      if (!isExif(original, list[i])) continue;
      var tiff = list[i].at + 10, end = list[i].at + 2 + list[i].length;
      var little = original[tiff] === 0x49;
      var found = 1;
      ifdEntries(original, tiff, u32(original, tiff + 4, little), end, little, function (at) {
        if (u16(original, at, little) === TAG_ORIENTATION) found = u16(original, at + 8, little);
      });
      return found;
    }
    return 1;
  }

  var bytes = { segments: segments, exifSegment: exifSegment, withExif: withExif, orientation: orientation };
  if (typeof module !== "undefined" && module.exports) module.exports = bytes;
  if (typeof document === "undefined") return;
  // A browser this old sends the photos as picked (and upload.js leaves the plain form post alone).
  if (!root.Promise || !root.FileReader) return;

  // ---- the page --------------------------------------------------------------------------------------

  var hz = (root.huizong = root.huizong || {});
  var pending = [];
  var results = typeof WeakMap === "function" ? new WeakMap() : null;

  // Photos worth re-encoding. Not GIF: an animated one would lose all but its first frame.
  function isImage(file) {
    return /^image\/(jpeg|png|heic|heif|webp|bmp)$/i.test(file.type || "") ||
      /\.(jpe?g|png|heic|heif|webp|bmp)$/i.test(file.name || "");
  }

  function readHead(file) {
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () { resolve(new Uint8Array(reader.result)); };
      reader.onerror = function () { resolve(new Uint8Array(0)); };
      reader.readAsArrayBuffer(file.slice(0, HEAD_BYTES));
    });
  }

  // The picture, turned upright by its EXIF orientation: {image, width, height} or null when the browser
  // cannot decode it. createImageBitmap reads the file itself; the fallback goes through a data: URL, as
  // the page's CSP allows images from data: but not from blob: URLs.
  function decode(file) {
    function viaImage() {
      return new Promise(function (resolve) {
        var reader = new FileReader();
        reader.onerror = function () { resolve(null); };
        reader.onload = function () {
          var img = new Image();
          img.onload = function () { resolve({ image: img, width: img.naturalWidth, height: img.naturalHeight }); };
          img.onerror = function () { resolve(null); };
          img.src = reader.result;
        };
        reader.readAsDataURL(file);
      });
    }
    if (typeof root.createImageBitmap !== "function") return viaImage();
    return root.createImageBitmap(file, { imageOrientation: "from-image" }).then(
      function (bitmap) { return { image: bitmap, width: bitmap.width, height: bitmap.height }; },
      viaImage
    );
  }

  function encode(canvas) {
    return new Promise(function (resolve) {
      if (!canvas.toBlob) { resolve(null); return; }
      canvas.toBlob(function (blob) { resolve(blob); }, "image/jpeg", QUALITY);
    });
  }

  function jpegName(name) {
    var stem = (name || "photo").replace(/\.[^.\/\\]{1,10}$/, "");
    return stem + ".jpg";
  }

  // One picked file → the file to send (the same File object when it is left alone).
  function shrink(file) {
    if (!isImage(file)) return Promise.resolve(file);
    return decode(file).then(function (img) {
      if (!img) return file; // the browser cannot decode it (HEIC outside Safari): sent as it is
      var w = img.width, h = img.height, long = Math.max(w, h);
      if (!w || !h || (long <= MAX_SIDE && file.size <= MAX_BYTES)) {
        if (img.image.close) img.image.close();
        return file;
      }
      var scale = Math.min(1, MAX_SIDE / long);
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(h * scale));
      var ctx = canvas.getContext("2d");
      if (!ctx) return file;
      ctx.fillStyle = "#fff"; // a PNG's transparency becomes white, not JPEG's black
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img.image, 0, 0, canvas.width, canvas.height);
      if (img.image.close) img.image.close(); // an ImageBitmap holds the decoded pixels until closed
      return Promise.all([encode(canvas), readHead(file)]).then(function (got) {
        var blob = got[0], head = got[1];
        if (!blob) return file;
        return new Promise(function (resolve) {
          var reader = new FileReader();
          reader.onerror = function () { resolve(file); };
          reader.onload = function () {
            var out = new Uint8Array(reader.result);
            var exif = exifSegment(head, canvas.width, canvas.height);
            // A browser that drew the pixels as stored (it ignores EXIF orientation: the sides did not
            // swap for a quarter turn) keeps the original's Orientation, or the photo would lie on its side.
            var turn = orientation(head), stored = dims(head);
            if (turn >= 5 && turn <= 8 && w !== h && stored.w === w && stored.h === h) restoreOrientation(exif, turn);
            out = withExif(out, exif);
            // Re-encoding a photo that was only large in bytes may not make it smaller: keep the original.
            if (out.length >= file.size) { resolve(file); return; }
            var made;
            try {
              made = new File([out], jpegName(file.name), { type: "image/jpeg", lastModified: file.lastModified });
            } catch (e) { // very old WebViews have no File constructor
              made = new Blob([out], { type: "image/jpeg" });
              made.name = jpegName(file.name);
            }
            resolve(made);
          };
          reader.readAsArrayBuffer(blob);
        });
      });
    })["catch"](function () { return file; }); // anything unexpected: the photo goes as it was picked
  }

  // The stored size of a JPEG (its SOF), to tell whether the browser applied the EXIF orientation.
  function dims(b) {
    var list = segments(b);
    for (var i = 0; i < list.length; i++) {
      var m = list[i].marker;
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        return { h: u16(b, list[i].at + 5, false), w: u16(b, list[i].at + 7, false) };
      }
    }
    return { w: -1, h: -1 };
  }

  function restoreOrientation(seg, turn) {
    if (!seg) return;
    var tiff = 10, little = seg[tiff] === 0x49;
    ifdEntries(seg, tiff, u32(seg, tiff + 4, little), seg.length, little, function (at) {
      if (u16(seg, at, little) === TAG_ORIENTATION) put16(seg, at + 8, turn, little);
    });
  }

  var picks = 0;

  function process(input) {
    var picked = Array.prototype.slice.call(input.files || []);
    // A second pick in the same field replaces the first: only the newest pick's results are kept.
    var mine = (input.hzPick = ++picks);
    // One photo at a time: a phone's WebView holds one decoded 12-megapixel photo (48 MB) comfortably,
    // five at once can get it killed.
    var done = [];
    var job = picked.reduce(function (chain, file) {
      return chain.then(function () { return shrink(file).then(function (f) { done.push(f); }); });
    }, Promise.resolve()).then(function () {
      var files = done;
      if (input.hzPick !== mine) return files;
      if (results) results.set(input, files);
      var changed = files.some(function (f, i) { return f !== picked[i]; });
      if (changed && typeof DataTransfer === "function") {
        try {
          var dt = new DataTransfer();
          files.forEach(function (f) { if (f instanceof File) dt.items.add(f); });
          if (dt.files.length === files.length) input.files = dt.files;
        } catch (e) { /* the send path uses filesFor() anyway */ }
      }
      return files;
    });
    pending.push(job);
    return job;
  }

  hz.photos = {
    MAX_SIDE: MAX_SIDE,
    MAX_BYTES: MAX_BYTES,
    bytes: bytes,
    ready: function () {
      return Promise.all(pending).then(function () { return undefined; });
    },
    filesFor: function (input) {
      return results ? results.get(input) || null : null;
    },
    pending: function () { return pending.length; }
  };

  // Bound to this document's form only: after upload.js writes the server's answer into the page, this
  // script runs again for the new form.
  var form = document.getElementById("unit-form");
  if (!form) return;
  form.addEventListener("change", function (ev) {
    var input = ev.target;
    if (input && input.type === "file" && input.hasAttribute("data-photos")) process(input);
  });
})(typeof window !== "undefined" ? window : this);
