import { el } from "./element.ts";
import type { LabDevice } from "./lab-device.ts";

/**
 * The status line of a device (connection state, pending ops, reconnect attempts) and its network button.
 */
export function deviceStatusView(device: LabDevice, idPrefix: string): HTMLElement {
  // Only the state is a live region: the attempt counter ticks too often to be read out.
  const state = el("span", { class: "state", role: "status", "aria-live": "polite", "data-testid": `${idPrefix}-state` });
  const pending = el("span", { "data-testid": `${idPrefix}-pending` });
  const attempts = el("span", { "data-testid": `${idPrefix}-attempts` });
  const toggle = el("button", {
    type: "button",
    class: "network-toggle",
    "data-testid": `${idPrefix}-network`,
    onclick: () => device.network.setOnline(!device.network.online),
  });
  const render = () => {
    const status = device.status;
    state.textContent = status.online ? status.state.toLowerCase() : `offline (${status.state.toLowerCase()})`;
    state.dataset.state = status.online ? status.state : "OFFLINE";
    pending.textContent = `${status.pendingOps} pending`;
    attempts.textContent = `${status.reconnectAttempts} reconnect attempts`;
    toggle.textContent = status.online ? "Go offline" : "Go online";
    toggle.setAttribute("aria-pressed", String(!status.online));
    toggle.setAttribute("aria-label", `${status.online ? "Disconnect" : "Reconnect"} ${device.label}`);
  };
  device.onStatusChange(render);
  render();
  const line = el("p", { class: "status" }, [state, " · ", pending, " · ", attempts]);
  return el("div", { class: "device-status" }, [line, toggle]);
}
