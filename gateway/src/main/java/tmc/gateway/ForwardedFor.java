package tmc.gateway;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;

/**
 * Gives every request from a trusted proxy the client's address out of {@code X-Forwarded-For} as its remote address
 * (port 0: the client's port is not forwarded), so that logs, {@code GET /api/v1/sessions} and everything else see
 * the browser rather than the load balancer. A request from any other peer keeps its TCP peer address, with or
 * without the header. Jetty's own ForwardedRequestCustomizer believes every peer, hence this one.
 */
final class ForwardedFor implements HttpConfiguration.Customizer {
    static final String HEADER = "X-Forwarded-For";

    private final TrustedProxies trusted;

    ForwardedFor(TrustedProxies trusted) {
        this.trusted = trusted;
    }

    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders) {
        if (!(request.getConnectionMetaData().getRemoteSocketAddress() instanceof InetSocketAddress peer)
                || peer.getAddress() == null || !trusted.trusts(peer.getAddress())) {
            return request;
        }
        List<String> header = request.getHeaders().getValuesList(HEADER);
        if (header.isEmpty()) {
            return request;
        }
        InetAddress client = trusted.client(peer.getAddress(), header);
        if (client.equals(peer.getAddress())) {
            return request;
        }
        InetSocketAddress remote = new InetSocketAddress(client, 0);
        ConnectionMetaData forwarded = new ConnectionMetaData.Wrapper(request.getConnectionMetaData()) {
            @Override
            public SocketAddress getRemoteSocketAddress() {
                return remote;
            }
        };
        return new Request.Wrapper(request) {
            @Override
            public ConnectionMetaData getConnectionMetaData() {
                return forwarded;
            }
        };
    }

    /** {@code address:port} of the request's client, or the address alone when it came through a proxy. */
    static String describe(jakarta.servlet.http.HttpServletRequest request) {
        int port = request.getRemotePort();
        return port == 0 ? request.getRemoteAddr() : request.getRemoteAddr() + ":" + port;
    }
}
