package io.github.pgiplisten.testsupport;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * A loopback stand-in for PgBouncer in transaction mode, enough to show what a client of one sees: each client
 * connection gets two server sessions, and every transaction (everything up to a ReadyForQuery that says idle) runs
 * on the next one. Like PgBouncer it answers encryption requests with "no" and tells the client a made-up process id
 * (BackendKeyData), not the server's. Needs a server that trusts the user (the throwaway test servers do): the second
 * session authenticates with the client's startup packet alone.
 */
public final class TransactionPooler implements AutoCloseable {

    private static final Pattern HOST_AND_PORT = Pattern.compile("^jdbc:postgresql://([^/:?]+)(?::(\\d+))?(/.*)$");
    private static final int FAKE_PID = 424242;

    private final ServerSocket listener;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private TransactionPooler(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "pooler-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A pooler in front of the server a JDBC URL points at. */
    public static TransactionPooler before(String jdbcUrl) throws IOException {
        Matcher matcher = HOST_AND_PORT.matcher(jdbcUrl);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("Cannot pool " + jdbcUrl + ": expected jdbc:postgresql://host:port/…");
        }
        return new TransactionPooler(
                matcher.group(1), matcher.group(2) != null ? Integer.parseInt(matcher.group(2)) : 5432);
    }

    /** The JDBC URL {@code jdbcUrl} becomes when it goes through this pooler. */
    public String pooledUrl(String jdbcUrl) {
        return SilentProxy.urlOnLoopbackPort(jdbcUrl, listener.getLocalPort());
    }

    @Override
    public void close() {
        closeQuietly(listener);
        sockets.forEach(TransactionPooler::closeQuietly);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                sockets.add(client);
                Thread session = new Thread(() -> serve(client), "pooler-session");
                session.setDaemon(true);
                session.start();
            } catch (IOException ex) {
                return; // closed
            }
        }
    }

    private void serve(Socket client) {
        try {
            DataInputStream fromClient = new DataInputStream(client.getInputStream());
            OutputStream toClient = client.getOutputStream();
            byte[] startup = untypedPacket(fromClient);
            while (isEncryptionRequest(startup)) {
                toClient.write('N');
                toClient.flush();
                startup = untypedPacket(fromClient);
            }
            Socket[] servers = {new Socket(targetHost, targetPort), new Socket(targetHost, targetPort)};
            client.setTcpNoDelay(true); // no 40 ms waits for a delayed ACK (see SilentProxy)
            for (Socket server : servers) {
                server.setTcpNoDelay(true);
                sockets.add(server);
                server.getOutputStream().write(startup);
                server.getOutputStream().flush();
            }
            // the first session's answers go to the client (with a made-up pid), the second one's are dropped
            relayUntilReady(new DataInputStream(servers[0].getInputStream()), toClient);
            relayUntilReady(new DataInputStream(servers[1].getInputStream()), null);
            AtomicInteger current = new AtomicInteger();
            Object clientOutput = new Object();
            for (int i = 0; i < servers.length; i++) {
                int index = i;
                Thread relay = new Thread(
                        () -> relayServer(servers, index, current, toClient, clientOutput), "pooler-server-" + i);
                relay.setDaemon(true);
                relay.start();
            }
            while (true) {
                byte[] message = typedMessage(fromClient);
                if (message[0] == 'X') {
                    break;
                }
                OutputStream server = servers[current.get()].getOutputStream();
                server.write(message);
                server.flush();
            }
            for (Socket server : servers) {
                closeQuietly(server);
            }
        } catch (IOException ex) {
            // a side closed
        } finally {
            closeQuietly(client);
        }
    }

    /** Relays one server session's messages; a transaction's end hands the next one to the other session. */
    private static void relayServer(
            Socket[] servers, int index, AtomicInteger current, OutputStream toClient, Object clientOutput) {
        try {
            DataInputStream in = new DataInputStream(servers[index].getInputStream());
            while (true) {
                byte[] message = typedMessage(in);
                synchronized (clientOutput) {
                    if (message[0] == 'Z' && message[5] == 'I') {
                        current.compareAndSet(index, (index + 1) % servers.length); // before the client sends more
                    }
                    toClient.write(message);
                    toClient.flush();
                }
            }
        } catch (IOException ex) {
            closeQuietly(servers[index]);
        }
    }

    /** Reads a server's answers up to ReadyForQuery, forwarding them to {@code toClient} unless it is null. */
    private static void relayUntilReady(DataInputStream in, @Nullable OutputStream toClient) throws IOException {
        while (true) {
            byte[] message = typedMessage(in);
            if (message[0] == 'R' && ByteBuffer.wrap(message, 5, 4).getInt() != 0) {
                throw new IOException("The stand-in pooler needs a server that trusts the user");
            }
            if (message[0] == 'K') {
                ByteBuffer.wrap(message, 5, 4).putInt(FAKE_PID);
            }
            if (toClient != null) {
                toClient.write(message);
                toClient.flush();
            }
            if (message[0] == 'Z') {
                return;
            }
        }
    }

    private static boolean isEncryptionRequest(byte[] packet) {
        if (packet.length != 8) {
            return false;
        }
        int code = ByteBuffer.wrap(packet, 4, 4).getInt();
        return code == 80877103 || code == 80877104;
    }

    /** A packet without a type byte (the startup phase): its length, then the rest. */
    private static byte[] untypedPacket(DataInputStream in) throws IOException {
        int length = in.readInt();
        byte[] packet = new byte[length];
        ByteBuffer.wrap(packet).putInt(length);
        in.readFully(packet, 4, length - 4);
        return packet;
    }

    /** A message with a type byte: the type, its length, then the rest. */
    private static byte[] typedMessage(DataInputStream in) throws IOException {
        byte type = in.readByte();
        int length = in.readInt();
        byte[] message = new byte[1 + length];
        message[0] = type;
        ByteBuffer.wrap(message, 1, 4).putInt(length);
        in.readFully(message, 5, length - 4);
        return message;
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ex) {
            // nothing to do
        }
    }
}
