// The wall's one store: the latest snapshot, the server clock's offset from this screen's, and
// the connection's state. Only dispatch() changes it; the tiles read it and re-render.

export const state = {
  wall: null,
  // serverNow() = Date.now() + offset: waits tick by the server's clock, not the screen's.
  offset: 0,
  connection: "connecting",
};

const listeners = new Set();

export function subscribe(listener) {
  listeners.add(listener);
}

export function serverNow() {
  return Date.now() + state.offset;
}

/** Actions: {type: "snapshot", wall, serverTime}, {type: "connection", state}, {type: "reset"}. */
export function dispatch(action) {
  if (action.type === "snapshot") {
    state.wall = action.wall;
    const server = Date.parse(action.serverTime);
    if (Number.isFinite(server)) state.offset = server - Date.now();
  } else if (action.type === "connection") {
    state.connection = action.state;
  } else if (action.type === "reset") {
    state.wall = null;
    state.offset = 0;
    state.connection = "connecting";
  } else {
    throw new Error(`unknown wall action ${action.type}`);
  }
  for (const listener of listeners) listener(state, action);
}
