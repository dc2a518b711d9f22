package tmc.auth;

/**
 * A token was refused. The message says why in words safe to show the user and to log: it never holds the token
 * or a secret.
 */
public final class AuthException extends Exception {
    public AuthException(String message) {
        super(message, null, false, false);
    }
}
