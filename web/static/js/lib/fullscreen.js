// The full-screen button of the screens (a site's projector, the check-in screen): shown
// where the browser allows full screen, it puts target in full screen and back.

export function fullscreenToggle(button, target) {
  if (!button || !document.fullscreenEnabled) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else target.requestFullscreen().catch(() => {});
  });
}
