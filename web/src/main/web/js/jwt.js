// Reads a JWT's payload for display only (view-only badge, expiry time). The gateway verifies the token;
// nothing here decides anything.

/** The payload of a compact JWS as an object, or null when it is not one. */
export function decodePayload(token) {
    if (typeof token !== 'string') {
        return null;
    }
    const parts = token.split('.');
    if (parts.length !== 3) {
        return null;
    }
    try {
        const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
        const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
        const bytes = Uint8Array.from(atob(padded), c => c.charCodeAt(0));
        const payload = JSON.parse(new TextDecoder().decode(bytes));
        return payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? payload : null;
    } catch (e) {
        return null;
    }
}
