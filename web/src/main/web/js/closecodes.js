// The gateway's WebSocket close codes (design.md, "Gateway WebSocket") turned into what the console does:
// which words to show and whether trying again can help.

// ===== CONSTANTS =====

export const NORMAL = 1000;
export const GOING_AWAY = 1001;
export const PROTOCOL_ERROR = 1002;
export const ABNORMAL = 1006;
export const POLICY_VIOLATION = 1008;
export const MESSAGE_TOO_BIG = 1009;
export const UNAUTHORIZED = 4401;
export const FORBIDDEN = 4403;
export const NOT_FOUND = 4404;
export const TOO_MANY = 4429;
export const UPSTREAM_UNREACHABLE = 4502;

/** Backoff between reconnects: doubling from the first, never longer than the cap (ms). */
export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_CAP_MS = 30000;
/** 4429 means "someone else holds the slots": waiting longer is kinder to the gateway. */
export const BACKOFF_TOO_MANY_FIRST_MS = 5000;

// ===== PUBLIC FUNCTIONS =====

/**
 * What a close means for the person: {key: i18n key prefix, retry: whether reconnecting can help}.
 * Retrying cannot fix a bad token, a VM that is not yours or one that does not exist.
 */
export function explain(code, byUser) {
    switch (code) {
        case UNAUTHORIZED: return { key: 'reason.4401', retry: false };
        case FORBIDDEN: return { key: 'reason.4403', retry: false };
        case NOT_FOUND: return { key: 'reason.4404', retry: false };
        case TOO_MANY: return { key: 'reason.4429', retry: true };
        case UPSTREAM_UNREACHABLE: return { key: 'reason.4502', retry: true };
        case GOING_AWAY: return { key: 'reason.1001', retry: true };
        case PROTOCOL_ERROR:
        case POLICY_VIOLATION:
        case MESSAGE_TOO_BIG: return { key: 'reason.protocol', retry: false };
        case NORMAL: return { key: 'reason.closed', retry: false };
        default: return { key: byUser ? 'reason.closed' : 'reason.lost', retry: !byUser };
    }
}

/** The wait before reconnect attempt n (1-based) after a close with this code. */
export function backoffMs(code, attempt) {
    const first = code === TOO_MANY ? BACKOFF_TOO_MANY_FIRST_MS : BACKOFF_FIRST_MS;
    return Math.min(BACKOFF_CAP_MS, first * 2 ** Math.min(attempt - 1, 16));
}
