// The staff pages' HTTP client: JSON in and out, the session's CSRF token on every write, and
// the server's {"error": {code, message, details}} turned into an ApiError.

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const auth = {
  csrf: null,
  lost: () => {}, // called when a request shows the session has ended
  restricted: () => {}, // called when the account must change its password or enrol first
};

const RESTRICTIONS = new Set(["password_change_required", "mfa_enrollment_required"]);

export function setCsrfToken(token) {
  auth.csrf = token;
}

/** ``handler`` runs when the server answers 401, or refuses the CSRF token, to a request. */
export function onSessionLost(handler) {
  auth.lost = handler;
}

/** ``handler(code)`` runs when the server answers that the account must do something first. */
export function onRestricted(handler) {
  auth.restricted = handler;
}

/** Call the API. ``authProbe``: a 401 is an answer, not a lost session; ``form``: ``body`` is FormData. */
export async function api(method, path, body, { authProbe = false, form = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (method !== "GET" && auth.csrf) headers["X-CSRF-Token"] = auth.csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const details = Array.isArray(error.details) ? error.details : [];
    const failure = new ApiError(response.status, error.code || String(response.status), error.message || response.statusText, details);
    const loggedOut = response.status === 401 || (response.status === 403 && details.some((d) => d && d.code === "csrf"));
    if (loggedOut && !authProbe && !path.startsWith("/api/auth/login")) auth.lost();
    if (response.status === 403 && RESTRICTIONS.has(failure.code)) auth.restricted(failure.code);
    throw failure;
  }
  return data;
}

const MESSAGES = {
  forbidden: "You are not allowed to do that.",
  network: "The server cannot be reached.",
};

/** A failure in words for people; ``messages`` adds a page's own codes. */
export function describe(error, messages = {}) {
  return messages[error.code] || MESSAGES[error.code] || error.message || "Something went wrong.";
}

/** {a: 1, b: "", c: null} -> "?a=1": empty values are left out. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
