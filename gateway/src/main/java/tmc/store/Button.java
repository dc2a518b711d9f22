package tmc.store;

/** One answer button of a message. {@code cancel} marks the button Escape answers with. */
public record Button(String id, String label, boolean cancel) {
}
