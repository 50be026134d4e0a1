package io.github.pgiplisten.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback TCP proxy in front of a PostgreSQL server that can make its open connections go silent: bytes are read
 * and dropped in both directions, sockets stay open, nobody is told. That is what a client sees when its network
 * vanishes. The proxy's own kernel would still answer the server's TCP keepalives, so the server would keep the
 * silent session (and its lock) for ever; {@link #closeServerSides()} then plays the server noticing the vanished
 * client, as its keepalives would on a real network. New connections are forwarded normally.
 */
public final class SilentProxy implements AutoCloseable {

    private static final Pattern HOST_AND_PORT = Pattern.compile("^jdbc:postgresql://([^/:?]+)(?::(\\d+))?(/.*)$");

    private volatile ServerSocket listener;
    private final int listenPort;
    private final String targetHost;
    private final int targetPort;
    private final List<Link> links = new CopyOnWriteArrayList<>();

    private SilentProxy(String targetHost, int targetPort, int listenPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.listener = new ServerSocket(listenPort, 50, InetAddress.getLoopbackAddress());
        this.listenPort = listener.getLocalPort();
        startAccepting(listener);
    }

    private void startAccepting(ServerSocket socket) {
        Thread acceptor = new Thread(() -> accept(socket), "silent-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Refuses new connections (nothing listens on the proxy's port) until {@link #acceptNewConnections()}; the open
     * ones flow on. What a client sees when it cannot reach the server for a new connection, such as a cancel request.
     */
    public void refuseNewConnections() {
        closeQuietly(listener);
    }

    /** Listens on the proxy's port again, after {@link #refuseNewConnections()}. */
    public void acceptNewConnections() throws IOException {
        ServerSocket socket = new ServerSocket(listenPort, 50, InetAddress.getLoopbackAddress());
        listener = socket;
        startAccepting(socket);
    }

    /** A proxy in front of the server a JDBC URL points at. */
    public static SilentProxy before(String jdbcUrl) throws IOException {
        return before(jdbcUrl, 0);
    }

    /**
     * A proxy on a given loopback port in front of the server a JDBC URL points at, for a client that was told that
     * port before anything listened there (0: any free port).
     */
    public static SilentProxy before(String jdbcUrl, int listenPort) throws IOException {
        Matcher matcher = HOST_AND_PORT.matcher(jdbcUrl);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("Cannot proxy " + jdbcUrl + ": expected jdbc:postgresql://host:port/…");
        }
        int port = matcher.group(2) != null ? Integer.parseInt(matcher.group(2)) : 5432;
        return new SilentProxy(matcher.group(1), port, listenPort);
    }

    /** The JDBC URL {@code jdbcUrl} becomes when it goes to the given loopback port instead. */
    public static String urlOnLoopbackPort(String jdbcUrl, int port) {
        Matcher matcher = HOST_AND_PORT.matcher(jdbcUrl);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("Cannot move " + jdbcUrl + ": expected jdbc:postgresql://host:port/…");
        }
        return "jdbc:postgresql://127.0.0.1:" + port + matcher.group(3);
    }

    /** The JDBC URL {@code jdbcUrl} becomes when it goes through this proxy. */
    public String proxiedUrl(String jdbcUrl) {
        return urlOnLoopbackPort(jdbcUrl, listenPort);
    }

    /** Every connection open now goes silent: nothing passes in either direction, nothing is closed. */
    public void silenceOpenConnections() {
        links.forEach(link -> link.silent = true);
    }

    /**
     * Every connection open now goes silent in the middle of the next piece of at least {@code bytes} bytes the
     * server sends (a long notification): the client gets its first half, then nothing more in either direction,
     * nothing is closed. Until then traffic flows.
     */
    public void silenceInTheMiddleOfTheNextMessageOver(int bytes) {
        links.forEach(link -> link.silenceAfterChunkOver = bytes);
    }

    /** Closes the server side of every silent connection, so the server ends those sessions. */
    public void closeServerSides() {
        for (Link link : links) {
            if (link.silent) {
                closeQuietly(link.server);
                links.remove(link);
            }
        }
    }

    @Override
    public void close() {
        closeQuietly(listener);
        for (Link link : links) {
            closeQuietly(link.client);
            closeQuietly(link.server);
        }
        links.clear();
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            Socket client = null;
            try {
                client = socket.accept();
                Socket server = new Socket(targetHost, targetPort);
                // as the driver and the server do on their own sockets: with Nagle's algorithm on, a chunk written
                // while the one before is not yet acknowledged waits for the peer's delayed ACK (40 ms on Linux). The
                // chaos suite's instances all connect through this proxy: its STOP_LEADER rounds took 14-103 ms (a
                // handover's statement now and then 44 or 88 ms) with it on, 14-23 with it off
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                Link link = new Link(client, server);
                links.add(link);
                pump(link, client, server, false, "silent-proxy-up");
                pump(link, server, client, true, "silent-proxy-down");
            } catch (IOException ex) {
                // listener closed, or the server refused: the client sees its connection fail at once
                if (client != null) {
                    closeQuietly(client);
                }
            }
        }
    }

    private static void pump(Link link, Socket from, Socket to, boolean fromServer, String name) {
        Thread thread = new Thread(
                () -> {
                    byte[] buffer = new byte[16384];
                    // streams are not closed here: closing one closes its socket, and a silent link keeps both open
                    try {
                        InputStream in = from.getInputStream();
                        OutputStream out = to.getOutputStream();
                        int read;
                        while ((read = in.read(buffer)) >= 0) {
                            if (fromServer
                                    && !link.silent
                                    && link.silenceAfterChunkOver > 0
                                    && read >= link.silenceAfterChunkOver) {
                                out.write(buffer, 0, read / 2);
                                out.flush();
                                link.silent = true;
                            }
                            if (!link.silent) {
                                out.write(buffer, 0, read);
                                out.flush();
                            }
                        }
                    } catch (IOException ex) {
                        // one side closed
                    } finally {
                        if (!link.silent) {
                            closeQuietly(from);
                            closeQuietly(to);
                        }
                    }
                },
                name);
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ex) {
            // nothing to do
        }
    }

    private static final class Link {
        final Socket client;
        final Socket server;
        volatile boolean silent;
        volatile int silenceAfterChunkOver;

        Link(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }
    }
}
