package io.github.pgiplisten.core.archfixture.election;

import io.github.pgiplisten.core.archfixture.FixtureEngine;

/** An internal class that reaches back up to the facade: {@code ArchitectureTest}'s rules must refuse it. */
public final class Reaches {

    public static int up() {
        return FixtureEngine.answer();
    }
}
