package io.github.pgiplisten.core.archfixture;

/** A facade, as the core's, for {@code ArchitectureTest}'s check that its rules bite. */
public final class FixtureEngine {

    public static int answer() {
        return 42;
    }
}
