package io.github.pgiplisten.core.archfixture.connection;

import io.github.pgiplisten.core.archfixture.dispatch.Lane;

/** The connection layer reaching the dispatch layer beside it, which reaches back: see {@link Lane}. */
public final class Climbs {

    public static int depth() {
        return 2;
    }

    public static int lanes() {
        return Lane.width();
    }
}
