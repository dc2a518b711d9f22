package tmc.testkit;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** RFB over a TCP connection (plain, or TLS once VeNCrypt started it). */
public final class TcpTransport implements Transport {
    private final Socket socket;
    private final InputStream in;

    private TcpTransport(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
    }

    public static TcpTransport connect(String host, int port) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(host, port), 10_000);
        return new TcpTransport(socket);
    }

    @Override
    public InputStream in() {
        return in;
    }

    @Override
    public OutputStream out() {
        try {
            return socket.getOutputStream();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs a TLS client handshake on this connection (VeNCrypt) and returns the transport to use from then on. The
     * server's certificate must chain to {@code tls}'s trust and name the host connected to (e.g. IP 127.0.0.1).
     */
    Transport startTls(SSLContext tls) throws IOException {
        String host = socket.getInetAddress().getHostAddress();
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(socket, host, socket.getPort(), true);
        ssl.setUseClientMode(true);
        SSLParameters params = ssl.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        ssl.setSSLParameters(params);
        ssl.startHandshake();
        return new TcpTransport(ssl);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
