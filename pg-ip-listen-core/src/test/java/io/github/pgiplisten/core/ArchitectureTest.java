package io.github.pgiplisten.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

/**
 * The core's walls, checked on its compiled classes. The API package ({@code io.github.pgiplisten.core}) is what
 * applications and the Spring layer use; the internals live in sub-packages by role, in layers from the owner thread's
 * loop down to the connection and the handler threads. Only the facade ({@link PgListenEngine}) reaches into them, and
 * they use the API's values (notifications, options, events) but never the facade: nothing points back up. Durable
 * channels ({@code core.durable}) sit on top of the facade and use only it and the API. Each rule is
 * also run against classes made to break it ({@code io.github.pgiplisten.core.archfixture}), so a rule that stopped
 * biting would fail here too.
 */
class ArchitectureTest {

    static final String CORE = "io.github.pgiplisten.core";

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(CORE);

    /** The walls of a core whose API package is {@code root}. */
    static ArchRule layers(String root) {
        return layeredArchitecture()
                .consideringOnlyDependenciesInAnyPackage(root + "..")
                .layer("durable")
                .definedBy(root + ".durable..")
                .layer("facade")
                .definedBy(facade(root))
                .layer("api")
                .definedBy(api(root))
                .layer("loop")
                .definedBy(root + ".loop..")
                .layer("election")
                .definedBy(root + ".election..")
                .layer("engine")
                .definedBy(root + ".engine..")
                .layer("dispatch")
                .definedBy(root + ".dispatch..")
                .layer("connection")
                .definedBy(root + ".connection..")
                .whereLayer("durable")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("facade")
                .mayOnlyBeAccessedByLayers("durable")
                .whereLayer("loop")
                .mayOnlyBeAccessedByLayers("facade")
                .whereLayer("election")
                .mayOnlyBeAccessedByLayers("facade", "loop")
                .whereLayer("engine")
                .mayOnlyBeAccessedByLayers("facade", "loop", "election")
                .whereLayer("dispatch")
                .mayOnlyBeAccessedByLayers("facade", "loop", "election", "engine")
                .whereLayer("connection")
                .mayOnlyBeAccessedByLayers("facade", "loop", "election", "engine")
                .because("the API and the facade are on top, the internals below them in layers, and nothing points "
                        + "back up: the internals use the API's values, never the facade");
    }

    /** No two sub-packages of {@code root} depend on each other, through any number of steps. */
    static ArchRule packagesWithoutCycles(String root) {
        return slices().matching(root + ".(*)..").should().beFreeOfCycles();
    }

    /** No two classes of {@code root} (nested classes count as their top-level class) depend on each other. */
    static ArchRule classesWithoutCycles(String root) {
        return slices().assignedFrom(new SliceAssignment() {
                    @Override
                    public SliceIdentifier getIdentifierOf(JavaClass type) {
                        return type.getPackageName().startsWith(root)
                                ? SliceIdentifier.of(topLevel(type).getName())
                                : SliceIdentifier.ignore();
                    }

                    @Override
                    public String getDescription() {
                        return "the classes of " + root;
                    }
                })
                .should()
                .beFreeOfCycles();
    }

    /**
     * The core runs without Spring: it never refers to it (Spring is not even on its class path, so the compiler
     * refuses it first; the rule says it where a reader of the walls looks).
     */
    static ArchRule withoutSpring(String root) {
        return noClasses()
                .that()
                .resideInAPackage(root + "..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("org.springframework..");
    }

    @Test
    void theInternalsAreLayeredBelowTheApiAndNothingPointsBackUp() {
        layers(CORE).check(MAIN);
    }

    @Test
    void noSubPackageDependsOnAnotherInACircle() {
        packagesWithoutCycles(CORE).check(MAIN);
    }

    @Test
    void noClassDependsOnAnotherInACircle() {
        classesWithoutCycles(CORE).check(MAIN);
    }

    @Test
    void theCoreDoesNotKnowSpring() {
        withoutSpring(CORE).check(MAIN);
    }

    @Test
    void eachRuleFailsOnClassesMadeToBreakIt() {
        String fixture = CORE + ".archfixture";
        JavaClasses broken = new ClassFileImporter().importPackages(fixture);
        assertThat(layers(fixture).evaluate(broken).getFailureReport().getDetails())
                .as("a sub-package reaching back up to the facade, and a lower layer reaching a higher one")
                .anyMatch(line -> line.contains("election.Reaches") && line.contains("FixtureEngine"))
                .anyMatch(line -> line.contains("connection.Climbs") && line.contains("dispatch.Lane"));
        assertThat(packagesWithoutCycles(fixture).evaluate(broken).hasViolation())
                .as("a package cycle")
                .isTrue();
        assertThat(classesWithoutCycles(fixture).evaluate(broken).hasViolation())
                .as("a class cycle")
                .isTrue();
    }

    private static DescribedPredicate<JavaClass> facade(String root) {
        return DescribedPredicate.describe(
                "the facade",
                type -> type.getPackageName().equals(root)
                        && topLevel(type).getSimpleName().endsWith("Engine"));
    }

    private static DescribedPredicate<JavaClass> api(String root) {
        return DescribedPredicate.describe(
                "the API",
                type -> type.getPackageName().equals(root)
                        && !topLevel(type).getSimpleName().endsWith("Engine"));
    }

    private static JavaClass topLevel(JavaClass type) {
        JavaClass outer = type;
        while (outer.getEnclosingClass().isPresent()) {
            outer = outer.getEnclosingClass().get();
        }
        return outer;
    }
}
