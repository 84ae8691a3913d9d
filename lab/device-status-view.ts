import { el } from "./element.ts";
import type { LabDevice } from "./lab-device.ts";
import { attemptsText, pendingText, stateText } from "./status-text.ts";

/**
 * The status line of a device (connection, unconfirmed writes, retries) and its network switch. The switch's
 * accessible name is its visible text plus the device it belongs to ("Go online (Device B)").
 */
export function deviceStatusView(device: LabDevice, idPrefix: string): HTMLElement {
  // Only the state is a live region: the other counts change too often to be read out.
  const state = el("span", { class: "state", role: "status", "aria-live": "polite", "data-testid": `${idPrefix}-state` });
  const pending = el("span", { class: "pending", "data-testid": `${idPrefix}-pending` });
  const attempts = el("span", { class: "attempts", "data-testid": `${idPrefix}-attempts` });
  const toggleText = el("span");
  const toggle = el("button", {
    type: "button",
    class: "network-toggle",
    "data-testid": `${idPrefix}-network`,
    onclick: () => device.network.setOnline(!device.network.online),
  }, [toggleText, el("span", { class: "visually-hidden" }, [` (${device.label})`])]);
  const render = () => {
    const status = device.status;
    state.textContent = stateText(status.state, status.online);
    state.dataset.state = status.online ? status.state : "OFFLINE";
    pending.textContent = pendingText(status.pendingOps);
    pending.dataset.count = String(status.pendingOps);
    attempts.textContent = attemptsText(status.reconnectAttempts);
    attempts.hidden = status.reconnectAttempts === 0;
    toggleText.textContent = status.online ? "Go offline" : "Go online";
    toggle.dataset.online = String(status.online);
  };
  device.onStatusChange(render);
  render();
  const line = el("p", { class: "status" }, [state, pending, attempts]);
  return el("div", { class: "device-status" }, [line, toggle]);
}
