package io.github.pgiplisten.core.connection;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.net.SocketFactory;

import org.jspecify.annotations.Nullable;

/**
 * The socket factory the engine names in its listen connection's properties ({@code socketFactory}, with a token in
 * {@code socketFactoryArg}); the driver creates it by name. Not for use elsewhere. While the connection opens, the
 * sockets it creates are {@link WakeableSocket}s handed to that connection's {@link Wakeup}; once it is open, any
 * further socket is one of the driver's cancel requests, a {@link CancelSocket} that tells whether the request went out
 * (the driver ignores a failed one).
 */
public final class WakeableSocketFactory extends SocketFactory {

    private static final Map<String, Wakeup> opening = new ConcurrentHashMap<>();

    private static final boolean VISIBLE_TO_DRIVER = loadableBy(org.postgresql.Driver.class.getClassLoader());

    private final @Nullable Wakeup wakeup;

    /** Called by the driver with the token of {@code socketFactoryArg}. */
    public WakeableSocketFactory(String token) {
        this.wakeup = opening.get(token);
    }

    /**
     * Whether the driver, which loads a socket factory by name with its own class loader, finds this very class (not
     * so when the driver sits in a parent class loader that cannot see the application's classes).
     */
    static boolean visibleToDriver() {
        return VISIBLE_TO_DRIVER;
    }

    private static boolean loadableBy(@Nullable ClassLoader loader) {
        try {
            return Class.forName(WakeableSocketFactory.class.getName(), false, loader) == WakeableSocketFactory.class;
        } catch (ClassNotFoundException | LinkageError ex) {
            return false;
        }
    }

    /** Lets the engine wake its owner thread out of a wait for notifications; see {@link WakeableSocket}. */
    static final class Wakeup implements AutoCloseable {

        private final String token = Long.toHexString(
                java.util.concurrent.ThreadLocalRandom.current().nextLong());
        private volatile @Nullable WakeableSocket socket;
        private volatile boolean open;
        /** The socket of the last cancel request since {@link #cancelling()}; null while none was made. */
        private volatile @Nullable CancelSocket cancel;

        Wakeup() {
            opening.put(token, this);
        }

        String token() {
            return token;
        }

        /** The connection is open: its socket is the last one made for it; no further socket will be. */
        @Override
        public void close() {
            opening.remove(token);
            open = true;
        }

        /** Whether the open connection reads through a wakeable socket (not when the URL names its own factory). */
        boolean works() {
            return open && socket != null;
        }

        void arm(boolean arm) {
            WakeableSocket current = socket;
            if (current != null) {
                current.arm(arm);
            }
        }

        void wake() {
            WakeableSocket current = socket;
            if (current != null) {
                current.wake();
            }
        }

        void budget(long bytes) {
            WakeableSocket current = socket;
            if (current != null) {
                current.budget(bytes);
            }
        }

        /** Moves what the server sent into the socket's spill file (see {@link WakeableSocket#spill()}). */
        long spill() throws java.io.IOException {
            WakeableSocket current = socket;
            return current != null ? current.spill() : 0;
        }

        long spilled() {
            WakeableSocket current = socket;
            return current != null ? current.spilled() : 0;
        }

        /**
         * From any thread: closes the socket itself. Under TLS the driver's own close first sends a close_notify, which
         * waits for the SSL layer's write lock: behind a write blocked on a silent network it would wait for ever.
         */
        void closeSocket() {
            WakeableSocket current = socket;
            if (current != null) {
                try {
                    current.close();
                } catch (java.io.IOException ex) {
                    // closed either way
                }
            }
        }

        boolean budgetUsed() {
            WakeableSocket current = socket;
            return current != null && current.budgetUsed();
        }

        /** A cancel request is about to be sent: forgets the last one's socket. */
        void cancelling() {
            cancel = null;
        }

        /**
         * Whether the cancel request sent since {@link #cancelling()} went out: its connection opened and the request
         * was written (see {@link CancelSocket}). Null when no socket was made for it here (the URL names a socket
         * factory of its own, or the driver had no key to send): not known.
         */
        @Nullable
        Boolean cancelSent() {
            CancelSocket current = cancel;
            return current != null ? current.sent() : null;
        }

        private Socket newSocket() throws IOException {
            if (open) {
                CancelSocket created = new CancelSocket();
                cancel = created;
                return created;
            }
            WakeableSocket created = new WakeableSocket();
            socket = created;
            return created;
        }
    }

    @Override
    public Socket createSocket() throws IOException {
        return wakeup != null ? wakeup.newSocket() : new Socket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        throw new UnsupportedOperationException("the driver connects unconnected sockets itself");
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        throw new UnsupportedOperationException("the driver connects unconnected sockets itself");
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        throw new UnsupportedOperationException("the driver connects unconnected sockets itself");
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        throw new UnsupportedOperationException("the driver connects unconnected sockets itself");
    }
}
