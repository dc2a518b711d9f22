package tmc.store;

/**
 * A fencing token: the change it comes with commits only while {@code lease} is still at {@code epoch}, checked in
 * the same transaction, which also holds the lease's row lock to its end, so a take-over commits either wholly
 * before the change (and the change is refused) or wholly after it (and sees it). {@code node} names the holder
 * in the outbox.
 */
public record Fence(String lease, String node, long epoch) {
    /** Thrown when the lease has moved on: whoever holds the token is no longer the owner. */
    public static final class LostException extends RuntimeException {
        public LostException(Fence fence) {
            super("lease " + fence.lease() + " is no longer at epoch " + fence.epoch() + " (fenced)");
        }
    }
}
