package tmc.gateway;

/** The configuration is unusable; the message names the field ({@code vms[1].vnc: ...}). */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
