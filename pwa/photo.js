// Photos on the phone: upright (createImageBitmap reads EXIF orientation), long side at most 1,600 px,
// a watermark burned in (time, enterprise, inspector, coordinates when known), JPEG, SHA-256 kept.
// Canvas drops EXIF, so GPS comes from the Geolocation API and travels in the record, not the file.
"use strict";

const LONG_SIDE = 1600;

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, "0")).join("");
}

function position(timeoutMs = 4000) {
  return new Promise(resolve => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      p => resolve({lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: p.coords.accuracy}),
      () => resolve(null), {enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60000});
  });
}

async function preparePhoto(file, lines) {
  const bitmap = await createImageBitmap(file, {imageOrientation: "from-image"});
  const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const w = Math.round(bitmap.width * scale), h = Math.round(bitmap.height * scale);
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(w, h) : Object.assign(document.createElement("canvas"), {width: w, height: h});
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close && bitmap.close();
  const size = Math.max(14, Math.round(Math.min(w, h) / 28));
  ctx.font = `${size}px "Noto Sans CJK SC", "PingFang SC", sans-serif`;
  const pad = Math.round(size / 2), lineH = Math.round(size * 1.3);
  const boxH = lines.length * lineH + pad * 2;
  ctx.fillStyle = "rgba(0,0,0,0.55)";
  ctx.fillRect(0, h - boxH, w, boxH);
  ctx.fillStyle = "#fff";
  lines.forEach((text, i) => ctx.fillText(text, pad, h - boxH + pad + (i + 1) * lineH - Math.round(size * 0.3)));
  const blob = canvas.convertToBlob ? await canvas.convertToBlob({type: "image/jpeg", quality: 0.82})
    : await new Promise(r => canvas.toBlob(r, "image/jpeg", 0.82));
  return {blob, sha: await sha256Hex(blob), size: blob.size, width: w, height: h};
}

self.ssjPhoto = {preparePhoto, sha256Hex, position};
