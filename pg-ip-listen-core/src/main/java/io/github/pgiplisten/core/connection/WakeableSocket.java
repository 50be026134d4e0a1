package io.github.pgiplisten.core.connection;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listen connection's socket: a TCP socket whose wait for the next message another thread can end, so the owner
 * thread can block in {@code getNotifications} until a notification, its probe time or a request arrives instead of
 * polling in short slices (an idle leader then wakes only to probe).
 *
 * <p>Reads and writes go through a non-blocking {@link SocketChannel} and a {@link Selector}. A wake-up ends a read
 * with a {@link SocketTimeoutException}, exactly as the driver's own read timeout does, and only when that is safe:
 * while the owner waits in {@link #armed() getNotifications} for the first byte of a message (a read timeout is set,
 * and not one byte has arrived since the wait began). A wake-up at any other moment stays pending until the next such
 * wait, so it never cuts a message, a TLS record or a statement's answer in two.
 *
 * <p>A read timeout of 1 ms is a peek: it ends at once when nothing has arrived. The driver sets it only to ask
 * whether another message is already there ({@code PGStream.hasMessagePending}), and a plain socket would wait the
 * full millisecond, on every read after a quiet second: a takeover would pay it on its critical path.
 *
 * <p>Under TLS the driver layers its SSL socket over this one (and sets its read timeouts here), so what passes here
 * is TLS records: a wake-up, the budget's "nothing more pending" and a peek's timeout come only between two records
 * ({@link MessageFraming}). The SSL layer peeks only once the driver has used every byte it decrypted, which happens
 * only where a record ends with a message: a budgeted read over TLS goes on to the first such record after its
 * budget (the server ends one at the latest with the last notification it had queued when it began sending).
 *
 * <p>Everything else a socket does is delegated to the channel's own socket ({@link ChannelSocket}); the message
 * framing that bounds a read and the spill file have their own classes ({@link MessageFraming}, {@link SpillFile}).
 */
final class WakeableSocket extends ChannelSocket {

    private static final Logger log = LoggerFactory.getLogger(WakeableSocket.class);

    private final Selector readable;
    private volatile int soTimeout;
    private volatile boolean armed;
    private volatile boolean woken;
    private boolean readSinceArmed;
    /** Bytes a read of notifications may take before the driver's "more pending?" check says no; 0: no limit. */
    private long budget;

    private long readSinceBudget;
    private boolean budgetUsed;
    /** Where messages (TLS records once encrypted) end, so a read past its budget ends at one; see the class. */
    private final MessageFraming framing = new MessageFraming();

    private final SpillFile spill = new SpillFile();
    private final Selector writable;

    WakeableSocket() throws IOException {
        super(SocketChannel.open());
        this.readable = Selector.open();
        this.writable = Selector.open();
    }

    /** The owner thread begins or ends a wait for notifications. */
    void arm(boolean arm) {
        readSinceArmed = false;
        armed = arm;
    }

    boolean armed() {
        return armed;
    }

    /**
     * The owner thread begins a read of notifications that should take about {@code bytes} at most (0: no limit):
     * past it, the driver's check for more pending messages (a 1 ms timeout) is told there are none, so the read
     * returns what it has and the rest stays in the socket and on the server until the next read.
     */
    void budget(long bytes) {
        budget = bytes;
        readSinceBudget = 0;
        budgetUsed = false;
    }

    /** Whether the last read stopped at its budget, with more possibly pending. */
    boolean budgetUsed() {
        return budgetUsed;
    }

    /** From any thread: ends the owner's wait for notifications now, or its next one if it is not waiting. */
    void wake() {
        woken = true;
        try {
            readable.wakeup();
        } catch (ClosedSelectorException ex) {
            // closed: nothing waits any more
        }
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        connect(endpoint, 0);
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        plain.connect(endpoint, timeout);
        channel.configureBlocking(false);
        channel.register(readable, SelectionKey.OP_READ);
        channel.register(writable, SelectionKey.OP_WRITE);
    }

    @Override
    public void bind(SocketAddress local) throws IOException {
        plain.bind(local);
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        soTimeout = timeout;
    }

    @Override
    public int getSoTimeout() {
        return soTimeout;
    }

    /**
     * The owner thread, while it does not read for the engine: moves what has arrived from the server into the spill
     * file, without waiting. Returns how many bytes it moved.
     */
    long spill() throws IOException {
        if (!framing.framed()) {
            // GSSAPI encryption hides where frames end, so reads have no budget: a spill would come back as one huge
            // read. TLS records need no more than the read budget: the file keeps them whole and in order
            return 0;
        }
        return spill.takeFrom(channel);
    }

    /** Bytes waiting in the spill file. */
    long spilled() {
        return spill.waiting();
    }

    /** The next bytes for the driver: the spill file's first, then the socket's. */
    private int fill(ByteBuffer target) throws IOException {
        Interrupts.ignore(); // file and socket channels close themselves on an interrupt
        if (spill.waiting() > 0) {
            return spill.readBack(target);
        }
        if (spill.ended()) {
            return -1;
        }
        return channel.read(target);
    }

    @Override
    int read(ByteBuffer target) throws IOException {
        boolean overBudget = framing.framed() && budget > 0 && readSinceBudget >= budget;
        boolean atBoundary = framing.atBoundary();
        if (overBudget && atBoundary && soTimeout == 1) {
            budgetUsed = true;
            throw new Unreadable("Read budget used");
        }
        if (overBudget && !atBoundary) {
            // hand out no more than the current frame, so the driver's buffer ends where it ends
            target.limit((int) Math.min(target.limit(), target.position() + framing.restOfFrame()));
        }
        // A peek that finds a frame begun waits for its rest, as the driver reads the rest of a message: on a plain
        // connection it never begins inside one, but the SSL layer peeks by reading a whole TLS record, and a timeout
        // inside a record would end the read with the record's start taken and nothing handed on
        int timeout = soTimeout == 1 && !atBoundary ? 0 : soTimeout;
        long deadline = timeout > 0 ? System.nanoTime() + timeout * 1_000_000L : 0;
        try {
            while (true) {
                int start = target.position();
                int count = fill(target);
                if (count != 0) {
                    readSinceArmed |= count > 0;
                    if (count > 0) {
                        readSinceBudget += count;
                        if (framing.framed()) {
                            framing.follow(target.array(), target.arrayOffset() + start, count);
                        }
                    }
                    return count;
                }
                // never inside a frame (a read timeout there would leave the SSL layer with part of a record)
                if (woken && armed && !readSinceArmed && timeout > 0 && atBoundary) {
                    woken = false;
                    throw new Unreadable("Woken up");
                }
                if (timeout == 1) {
                    if (readable.selectNow() == 0) {
                        throw new Unreadable("Nothing to read yet");
                    }
                    readable.selectedKeys().clear();
                    continue;
                }
                Interrupts.ignore();
                long waitMillis = 0;
                if (deadline != 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("Read timed out");
                    }
                    waitMillis = Math.max(1, (left + 999_999) / 1_000_000);
                }
                readable.select(waitMillis);
                readable.selectedKeys().clear();
            }
        } catch (ClosedSelectorException ex) {
            throw new SocketException("Socket closed");
        }
    }

    @Override
    void write(ByteBuffer source) throws IOException {
        framing.writing(source);
        try {
            while (source.hasRemaining()) {
                Interrupts.ignore();
                if (channel.write(source) == 0) {
                    Interrupts.ignore();
                    writable.select();
                    writable.selectedKeys().clear();
                }
            }
        } catch (ClosedSelectorException ex) {
            throw new SocketException("Socket closed");
        }
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            channel.close();
            spill.close();
        } finally {
            readable.close(); // ends a wait in select at once
            writable.close();
        }
    }

    /**
     * The timeouts that steer the driver's reads rather than report a fault: the driver asks whether a message is
     * pending with a read of 1 ms after every notification it reads (see {@code PGStream.hasMessagePending}) and takes
     * the timeout as "no"; at a high rate of notifications that is thousands a second, and filling in a stack trace for
     * each took a tenth of the listen thread's CPU (async-profiler, throughput runs of 2026-12-07). The driver catches
     * these itself; none reaches an application.
     */
    private static final class Unreadable extends SocketTimeoutException {

        private static final long serialVersionUID = 1L;

        Unreadable(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
