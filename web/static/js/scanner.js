// Read QR codes from the phone's back camera: a few frames a second through the vendored
// jsQR decoder on a canvas (the browser's BarcodeDetector is missing on desktop Chromium
// and iOS). Shared by the operator's check-in page and the delegate's personal page.
//
//   const scanner = new Scanner(videoElement, { decoder: page.jsqr, onCode, onState });
//   await scanner.start();   // asks for the camera; rejects with a ScannerError
//   scanner.stop();
//
// A code is reported once while it stays in view and again only after it has been out
// of view for REPEAT_MS. Tests (and keyboard-wedge barcode readers, through a text
// field) can feed text the same way: document.dispatchEvent(new CustomEvent(
// "plenary:scan", { detail: "<text>" })).

const FRAME_MS = 250;
// Frames are scaled down to this many pixels on the long side before decoding.
const MAX_SIDE = 800;
const REPEAT_MS = 3000;

let decoderLoading = null;

/** window.jsQR, loading the vendored UMD script (a classic script: CSP script-src 'self'). */
function loadDecoder(url) {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  if (!decoderLoading) {
    decoderLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.addEventListener("load", () =>
        window.jsQR ? resolve(window.jsQR) : reject(new ScannerError("decoder")),
      );
      script.addEventListener("error", () => {
        decoderLoading = null;
        script.remove();
        reject(new ScannerError("decoder"));
      });
      document.head.append(script);
    });
  }
  return decoderLoading;
}

/** Why the camera did not start: insecure, denied, no_camera, busy, decoder or failed. */
export class ScannerError extends Error {
  constructor(reason, cause) {
    super(reason);
    this.reason = reason;
    this.cause = cause;
  }
}

function cameraError(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return new ScannerError("denied", error);
    case "NotFoundError":
    case "OverconstrainedError":
      return new ScannerError("no_camera", error);
    case "NotReadableError":
    case "AbortError":
      return new ScannerError("busy", error);
    default:
      return error instanceof ScannerError ? error : new ScannerError("failed", error);
  }
}

export class Scanner {
  constructor(video, { decoder, onCode, onState } = {}) {
    this.video = video;
    this.decoderUrl = decoder;
    this.onCode = onCode ?? (() => {});
    this.onState = onState ?? (() => {});
    this.canvas = document.createElement("canvas");
    this.context = null;
    this.stream = null;
    this.timer = null;
    this.lastText = null;
    this.lastSeen = 0;
    this.resumeWhenVisible = false;
    this.starting = null;
    document.addEventListener("plenary:scan", (e) => {
      if (typeof e.detail === "string") this.seen(e.detail);
    });
    // A hidden page gives the camera back (the phone's light goes off) and takes it again.
    document.addEventListener("visibilitychange", () => {
      if (document.hidden && this.running) {
        this.resumeWhenVisible = true;
        this.stop();
      } else if (!document.hidden && this.resumeWhenVisible) {
        this.resumeWhenVisible = false;
        this.start().catch((error) => this.onState("error", error));
      }
    });
  }

  get running() {
    return this.stream !== null;
  }

  async start() {
    if (this.running) return;
    if (this.starting) return this.starting;
    this.starting = this.open().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async open() {
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      throw new ScannerError("insecure");
    }
    this.onState("starting");
    const decoder = loadDecoder(this.decoderUrl);
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: {
          facingMode: { ideal: "environment" },
          width: { ideal: 1280 },
          height: { ideal: 720 },
        },
      });
    } catch (error) {
      throw cameraError(error);
    }
    try {
      this.decode = await decoder;
      this.video.muted = true;
      this.video.playsInline = true;
      this.video.srcObject = stream;
      await this.video.play();
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      this.video.srcObject = null;
      throw cameraError(error);
    }
    this.stream = stream;
    this.onState("running");
    this.schedule();
  }

  stop() {
    window.clearTimeout(this.timer);
    this.timer = null;
    if (!this.stream) return;
    for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.onState("stopped");
  }

  schedule() {
    this.timer = window.setTimeout(() => {
      if (!this.running) return;
      try {
        this.frame();
      } finally {
        if (this.running) this.schedule();
      }
    }, FRAME_MS);
  }

  frame() {
    const width = this.video.videoWidth;
    const height = this.video.videoHeight;
    if (!width || !height) return;
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    const w = Math.round(width * scale);
    const h = Math.round(height * scale);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.context = null;
    }
    this.context ??= this.canvas.getContext("2d", { willReadFrequently: true });
    this.context.drawImage(this.video, 0, 0, w, h);
    const image = this.context.getImageData(0, 0, w, h);
    // Badges and screens are dark on light: skipping the inverted pass halves the work.
    const found = this.decode(image.data, w, h, { inversionAttempts: "dontInvert" });
    if (found?.data) this.seen(found.data);
  }

  /** Report text unless it is the code that has been in view for the last REPEAT_MS. */
  seen(text) {
    const now = performance.now();
    const repeat = text === this.lastText && now - this.lastSeen < REPEAT_MS;
    this.lastText = text;
    this.lastSeen = now;
    if (!repeat) this.onCode(text);
  }
}
