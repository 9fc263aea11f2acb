/* The scanner page's WebAssembly QR decoder (a module worker): zxing-wasm's reader, built from npm
   into /static/vendor/zxing by scripts/build-static.sh. locateFile points the reader at the site's own
   .wasm: by default zxing-wasm would fetch it from a CDN, which this page must never do.
   Message in: {id, input: ImageData | Blob}; out: {id, text: the first QR code's text or null}. */
import {prepareZXingModule, readBarcodes} from "/static/vendor/zxing/reader/index.js";

prepareZXingModule({
  overrides: {
    locateFile: function (path, prefix) {
      return path.endsWith(".wasm") ? "/static/vendor/zxing/reader/" + path : prefix + path;
    }
  }
});

const OPTIONS = {formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1};

self.onmessage = async function (event) {
  const {id, input} = event.data;
  let text = null;
  try {
    const results = await readBarcodes(input, OPTIONS);
    const found = results.find(function (r) { return r.isValid && r.text; });
    text = found ? found.text : null;
  } catch (error) {
    text = null;
  }
  self.postMessage({id: id, text: text});
};
