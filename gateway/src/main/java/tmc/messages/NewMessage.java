package tmc.messages;

import java.util.List;
import tmc.store.Button;

/**
 * A message as the API parsed it (types already checked); {@link MessageService#submit} checks the rest.
 * Exactly one of {@code vms} and {@code tenant} is set.
 */
public record NewMessage(List<String> vms, String tenant, String title, String body, String severity,
                         List<Button> buttons, boolean modal, String position, long ttlSeconds) {
    public static final List<String> SEVERITIES = List.of("info", "warning", "critical");
    public static final List<String> POSITIONS = List.of("top-left", "top", "top-right", "left", "center", "right",
            "bottom-left", "bottom", "bottom-right");
    public static final long MAX_TTL_SECONDS = 7 * 24 * 3600;
    public static final long DEFAULT_TTL_SECONDS = 3600;
    public static final int MAX_VMS = 1000;
}
