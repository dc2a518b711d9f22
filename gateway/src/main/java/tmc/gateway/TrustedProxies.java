package tmc.gateway;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The proxies (load balancers) whose {@code X-Forwarded-For} the gateway believes ({@code listen.trustedProxies}):
 * addresses or CIDR blocks. A header from any other peer is ignored, whatever it says: anybody can send one.
 *
 * <p>{@link #client} walks the header from the right (the hop nearest to the gateway) past trusted proxies and takes
 * the first address that is not one: what a client wrote into the header itself stays at the left, behind the
 * address the proxy appended, and is never reached. An entry that is not an IP literal stops the walk (the last
 * trusted hop is then the client as far as anybody can tell).
 */
public final class TrustedProxies {
    public static final TrustedProxies NONE = new TrustedProxies(List.of());
    /** IP literals only: a name would need DNS, and the header's words are the sender's. */
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private record Block(byte[] network, int prefix) {
        boolean contains(InetAddress a) {
            byte[] b = a.getAddress();
            if (b.length != network.length) {
                return false;
            }
            for (int bit = 0; bit < prefix; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((b[bit / 8] & mask) != (network[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final List<Block> blocks;
    private final List<String> text;

    private TrustedProxies(List<Block> blocks) {
        this.blocks = List.copyOf(blocks);
        this.text = blocks.stream().map(TrustedProxies::describe).toList();
    }

    /** Parses {@code 10.0.0.5}, {@code 10.0.0.0/8}, {@code ::1}, {@code fd00::/8}; throws with what is wrong. */
    public static TrustedProxies parse(List<String> entries) {
        List<Block> blocks = new ArrayList<>();
        for (String entry : entries) {
            int slash = entry.indexOf('/');
            InetAddress address = literal(slash < 0 ? entry : entry.substring(0, slash));
            if (address == null) {
                throw new IllegalArgumentException("expected an IP address or a CIDR block (10.0.0.0/8), got '"
                        + entry + "'");
            }
            int bits = address.getAddress().length * 8;
            int prefix = bits;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(entry.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > bits) {
                    throw new IllegalArgumentException("the prefix of '" + entry + "' must be 0-" + bits);
                }
            }
            blocks.add(new Block(address.getAddress(), prefix));
        }
        return new TrustedProxies(blocks);
    }

    public boolean isEmpty() {
        return blocks.isEmpty();
    }

    public boolean trusts(InetAddress peer) {
        for (Block b : blocks) {
            if (b.contains(peer)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The client's address: {@code peer} itself unless it is a trusted proxy; then the rightmost address of the
     * {@code X-Forwarded-For} values (header lines in the order received) that is not a trusted proxy.
     */
    public InetAddress client(InetAddress peer, List<String> forwardedFor) {
        if (!trusts(peer)) {
            return peer;
        }
        List<String> hops = new ArrayList<>();
        for (String line : forwardedFor) {
            for (String hop : line.split(",")) {
                hops.add(hop.trim());
            }
        }
        InetAddress client = peer;
        for (int i = hops.size() - 1; i >= 0 && trusts(client); i--) {
            InetAddress hop = literal(hops.get(i));
            if (hop == null) {
                break;
            }
            client = hop;
        }
        return client;
    }

    /** The address of an IP literal, or null for anything else (no name is ever looked up). */
    static InetAddress literal(String s) {
        try {
            if (IPV4.matcher(s).matches()) {
                String[] parts = s.split("\\.");
                byte[] b = new byte[4];
                for (int i = 0; i < 4; i++) {
                    int v = Integer.parseInt(parts[i]);
                    if (v > 255) {
                        return null;
                    }
                    b[i] = (byte) v;
                }
                return InetAddress.getByAddress(b);
            }
            // With a colon, getByName parses an IPv6 literal or fails; it never asks DNS.
            return IPV6.matcher(s).matches() ? InetAddress.getByName(s) : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static String describe(Block b) {
        try {
            return InetAddress.getByAddress(b.network()).getHostAddress() + "/" + b.prefix();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
