// Structural oracle for declarative Jenkinsfiles.
//
// Usage: groovy JenkinsfileHarness.groovy FILE...
// Prints one JSON array to stdout: per file either
//   {"file": F, "ok": true, "pipeline": {...recorded structure...}}
// or
//   {"file": F, "ok": false, "error": "..."}
//
// Two passes per file. First the Groovy parser (the same 2.4 line Jenkins runs)
// must accept the text, and its AST must look like declarative syntax: one
// top-level `pipeline { }` call, closures made only of method calls (and
// `NAME = value` assignments, which only `environment { }` accepts), arguments
// made only of literals. Then the script runs against stub directives that record
// what they see and refuse anything a declarative pipeline would not accept.
// Every string an `sh` step (or any other directive) receives must be a plain
// String: a GString means Groovy interpolated the text before the shell saw it.

import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.ModuleNode
import org.codehaus.groovy.ast.expr.*
import org.codehaus.groovy.ast.stmt.*
import org.codehaus.groovy.classgen.GeneratorContext
import org.codehaus.groovy.control.CompilationFailedException
import org.codehaus.groovy.control.CompilePhase
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.SourceUnit
import org.codehaus.groovy.control.customizers.CompilationCustomizer
import org.codehaus.groovy.control.messages.ExceptionMessage

class HarnessError extends RuntimeException {
    HarnessError(String message) { super(message) }
}

/** A directive scope: every call and name lookup goes through explicit tables. */
class Scope implements GroovyInterceptable {
    private final String where
    private final Map<String, Closure> calls
    private final Map<String, Object> names
    private final Closure assign

    Scope(String where, Map<String, Closure> calls, Map<String, Object> names = [:], Closure assign = null) {
        this.where = where
        this.calls = calls
        this.names = names
        this.assign = assign
    }

    Object invokeMethod(String name, Object args) {
        Closure handler = this.@calls.get(name)
        if (handler == null) {
            if (name == 'script') {
                throw new HarnessError("${this.@where}: script blocks are not allowed (declarative only)")
            }
            throw new HarnessError("${this.@where}: '${name}' is not allowed here")
        }
        Object[] list = (args instanceof Object[]) ? (Object[]) args : ([args] as Object[])
        Rules.refuseGStrings(this.@where + " > " + name, list)
        return handler.call(list)
    }

    Object getProperty(String name) {
        if (this.@names.containsKey(name)) return this.@names.get(name)
        // only reachable from inside a GString, which the receiving directive then refuses
        if (name == 'env') return [:].withDefault { '' }
        throw new HarnessError("${this.@where}: unknown name '${name}'")
    }

    void setProperty(String name, Object value) {
        if (this.@assign == null) throw new HarnessError("${this.@where}: assignment to '${name}' is not allowed here")
        Rules.refuseGStrings(this.@where + " > " + name, [value] as Object[])
        this.@assign.call(name, value)
    }
}

/** Marker values for bare names such as `agent any`. */
class Bare {
    final String name
    Bare(String name) { this.name = name }
}

/** A `credentials('id')` reference in `environment { }`. */
class CredentialsRef {
    final String id
    CredentialsRef(String id) { this.id = id }
}

/** A binding inside `withCredentials([...])`. */
class Binding {
    final Map data
    Binding(Map data) { this.data = data }
}

class Rules {
    static final Set<String> POST_CONDITIONS = [
        'always', 'changed', 'fixed', 'regression', 'aborted', 'failure', 'success',
        'unstable', 'unsuccessful', 'notBuilt', 'cleanup',
    ] as Set
    static final Set<String> RESULTS = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED'] as Set
    static final Set<String> UNITS = ['NANOSECONDS', 'MICROSECONDS', 'MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS'] as Set

    /** `agent any` / `agent none` read these names in pipeline and stage scopes. */
    static Map<String, Object> agentNames() { [any: new Bare('any'), none: new Bare('none')] }

    static void refuseGStrings(String where, Object value) {
        if (value instanceof GString) {
            throw new HarnessError("${where}: received a GString (Groovy interpolation) instead of a String")
        }
        if (value instanceof Object[]) { for (Object v : (Object[]) value) refuseGStrings(where, v) }
        else if (value instanceof Collection) { for (Object v : (Collection) value) refuseGStrings(where, v) }
        else if (value instanceof Map) {
            ((Map) value).each { k, v -> refuseGStrings(where, k); refuseGStrings(where, v) }
        }
    }

    static String str(String where, Object v) {
        if (!(v instanceof String)) throw new HarnessError("${where}: expected a string literal, got ${v == null ? 'null' : v.getClass().simpleName}")
        return (String) v
    }

    static Closure body(String where, Object v) {
        if (!(v instanceof Closure)) throw new HarnessError("${where}: expected a { } block")
        return (Closure) v
    }

    /** Named arguments: exactly one Map, only known keys, required keys present. */
    static Map named(String where, Object[] args, int extra, List<String> required, List<String> optional) {
        if (args.length != 1 + extra || !(args[0] instanceof Map)) {
            throw new HarnessError("${where}: expected named arguments (${required.join(', ')})")
        }
        Map m = (Map) args[0]
        for (Object k : m.keySet()) {
            if (!(required.contains(k) || optional.contains(k))) throw new HarnessError("${where}: unknown argument '${k}'")
        }
        for (String k : required) {
            if (!m.containsKey(k)) throw new HarnessError("${where}: missing argument '${k}'")
        }
        return m
    }

    static void arity(String where, Object[] args, int n) {
        if (args.length != n) throw new HarnessError("${where}: expected ${n} argument(s), got ${args.length}")
    }

    static void once(Map rec, String key, String where) {
        if (rec.containsKey(key)) throw new HarnessError("${where}: '${key}' given twice")
    }

    static Object run(Closure c, Scope scope) {
        Closure copy = (Closure) c.clone()
        copy.resolveStrategy = Closure.DELEGATE_ONLY
        copy.delegate = scope
        return copy.call()
    }
}

class Recorder {
    final Set<String> stageNames = new HashSet<String>()

    Map pipeline(Object[] args) {
        Rules.arity('pipeline', args, 1)
        Map rec = new LinkedHashMap()
        Rules.run(Rules.body('pipeline', args[0]), new Scope('pipeline', [
            agent      : { Object[] a -> Rules.once(rec, 'agent', 'pipeline'); rec.agent = agent('pipeline > agent', a) },
            options    : { Object[] a -> Rules.once(rec, 'options', 'pipeline'); rec.options = options('pipeline > options', a, true) },
            environment: { Object[] a -> Rules.once(rec, 'environment', 'pipeline'); rec.environment = environment('pipeline > environment', a) },
            stages     : { Object[] a -> Rules.once(rec, 'stages', 'pipeline'); rec.stages = stages('pipeline > stages', a, 0) },
            post       : { Object[] a -> Rules.once(rec, 'post', 'pipeline'); rec.post = post('pipeline > post', a) },
        ], Rules.agentNames()))
        if (!rec.containsKey('agent')) throw new HarnessError("pipeline: missing 'agent'")
        if (!rec.containsKey('stages')) throw new HarnessError("pipeline: missing 'stages'")
        return rec
    }

    Map agent(String where, Object[] args) {
        Rules.arity(where, args, 1)
        Object a = args[0]
        if (a instanceof Bare) return [type: ((Bare) a).name]
        Map rec = new LinkedHashMap()
        Rules.run(Rules.body(where, a), new Scope(where, [
            label : { Object[] x -> Rules.arity(where + ' > label', x, 1); Rules.once(rec, 'type', where); rec.type = 'label'; rec.label = Rules.str(where + ' > label', x[0]) },
            docker: { Object[] x ->
                Rules.once(rec, 'type', where)
                rec.type = 'docker'
                Rules.arity(where + ' > docker', x, 1)
                Rules.run(Rules.body(where + ' > docker', x[0]), new Scope(where + ' > docker', [
                    image: { Object[] y -> Rules.arity(where + ' > docker > image', y, 1); Rules.once(rec, 'image', where); rec.image = Rules.str(where + ' > docker > image', y[0]) },
                    label: { Object[] y -> Rules.arity(where + ' > docker > label', y, 1); Rules.once(rec, 'label', where); rec.label = Rules.str(where + ' > docker > label', y[0]) },
                    args : { Object[] y -> Rules.arity(where + ' > docker > args', y, 1); Rules.once(rec, 'args', where); rec.args = Rules.str(where + ' > docker > args', y[0]) },
                ]))
                if (!rec.containsKey('image')) throw new HarnessError("${where} > docker: missing 'image'")
            },
        ]))
        if (!rec.containsKey('type')) throw new HarnessError("${where}: empty agent block")
        return rec
    }

    List options(String where, Object[] args, boolean topLevel) {
        Rules.arity(where, args, 1)
        List rec = []
        Set<String> seen = new HashSet<String>()
        Closure mark = { String n -> if (!seen.add(n)) throw new HarnessError("${where}: option '${n}' given twice") }
        Map calls = [
            timeout: { Object[] a ->
                mark('timeout')
                Map m = Rules.named(where + ' > timeout', a, 0, ['time'], ['unit', 'activity'])
                if (!(m.time instanceof Integer) || ((Integer) m.time) <= 0) throw new HarnessError("${where} > timeout: time must be a positive integer")
                String unit = m.containsKey('unit') ? Rules.str(where + ' > timeout', m.unit) : 'MINUTES'
                if (!Rules.UNITS.contains(unit)) throw new HarnessError("${where} > timeout: unknown unit '${unit}'")
                rec << [option: 'timeout', time: m.time, unit: unit]
            },
            retry: { Object[] a ->
                mark('retry')
                Rules.arity(where + ' > retry', a, 1)
                if (!(a[0] instanceof Integer)) throw new HarnessError("${where} > retry: expected an integer")
                rec << [option: 'retry', count: a[0]]
            },
            skipDefaultCheckout: { Object[] a -> mark('skipDefaultCheckout'); Rules.arity(where, a, 0); rec << [option: 'skipDefaultCheckout'] },
        ]
        if (topLevel) {
            calls.disableConcurrentBuilds = { Object[] a -> mark('disableConcurrentBuilds'); Rules.arity(where, a, 0); rec << [option: 'disableConcurrentBuilds'] }
        }
        Rules.run(Rules.body(where, args[0]), new Scope(where, calls))
        if (rec.isEmpty()) throw new HarnessError("${where}: empty options block")
        return rec
    }

    Map environment(String where, Object[] args) {
        Rules.arity(where, args, 1)
        Map rec = new LinkedHashMap()
        Rules.run(Rules.body(where, args[0]), new Scope(where,
            [credentials: { Object[] a -> Rules.arity(where + ' > credentials', a, 1); new CredentialsRef(Rules.str(where + ' > credentials', a[0])) }],
            [:],
            { String name, Object value ->
                if (!(name ==~ /[A-Za-z_][A-Za-z0-9_]*/)) throw new HarnessError("${where}: bad variable name '${name}'")
                if (rec.containsKey(name)) throw new HarnessError("${where}: '${name}' given twice")
                if (value instanceof CredentialsRef) rec[name] = [credentials: ((CredentialsRef) value).id]
                else rec[name] = [value: Rules.str(where + ' > ' + name, value)]
            }))
        if (rec.isEmpty()) throw new HarnessError("${where}: empty environment block")
        return rec
    }

    List stages(String where, Object[] args, int depth) {
        Rules.arity(where, args, 1)
        List rec = []
        Rules.run(Rules.body(where, args[0]), new Scope(where, [
            stage: { Object[] a -> rec << stage(where, a, false, depth) },
        ]))
        if (rec.isEmpty()) throw new HarnessError("${where}: no stages")
        return rec
    }

    Map stage(String parent, Object[] args, boolean inParallel, int depth) {
        if (args.length != 2) throw new HarnessError("${parent} > stage: expected stage('name') { ... }")
        String name = Rules.str(parent + ' > stage', args[0])
        if (name.isEmpty()) throw new HarnessError("${parent} > stage: empty stage name")
        if (!stageNames.add(name)) throw new HarnessError("${parent} > stage: duplicate stage name '${name}'")
        String where = "stage '${name}'"
        Map rec = new LinkedHashMap()
        rec.name = name
        Rules.run(Rules.body(where, args[1]), new Scope(where, [
            agent      : { Object[] a -> Rules.once(rec, 'agent', where); rec.agent = agent(where + ' > agent', a) },
            options    : { Object[] a -> Rules.once(rec, 'options', where); rec.options = options(where + ' > options', a, false) },
            environment: { Object[] a -> Rules.once(rec, 'environment', where); rec.environment = environment(where + ' > environment', a) },
            when       : { Object[] a -> Rules.once(rec, 'when', where); rec.when = when(where + ' > when', a) },
            steps      : { Object[] a ->
                Rules.once(rec, 'steps', where)
                Rules.arity(where + ' > steps', a, 1)
                rec.steps = steps(where + ' > steps', Rules.body(where + ' > steps', a[0]))
                if (((List) rec.steps).isEmpty()) throw new HarnessError("${where}: empty steps block")
            },
            parallel   : { Object[] a ->
                Rules.once(rec, 'parallel', where)
                if (inParallel) throw new HarnessError("${where}: parallel inside a parallel branch")
                Rules.arity(where + ' > parallel', a, 1)
                List branches = []
                Rules.run(Rules.body(where + ' > parallel', a[0]), new Scope(where + ' > parallel', [
                    stage: { Object[] b -> branches << stage(where + ' > parallel', b, true, depth + 1) },
                ]))
                if (branches.isEmpty()) throw new HarnessError("${where}: empty parallel block")
                rec.parallel = branches
            },
            stages     : { Object[] a ->
                Rules.once(rec, 'stages', where)
                rec.stages = stages(where + ' > stages', a, depth + 1)
            },
            failFast   : { Object[] a ->
                Rules.once(rec, 'failFast', where)
                Rules.arity(where + ' > failFast', a, 1)
                if (!(a[0] instanceof Boolean)) throw new HarnessError("${where} > failFast: expected true or false")
                rec.failFast = a[0]
            },
            post       : { Object[] a -> Rules.once(rec, 'post', where); rec.post = post(where + ' > post', a) },
        ], Rules.agentNames()))
        int bodies = ['steps', 'parallel', 'stages'].count { rec.containsKey(it) }
        if (bodies != 1) throw new HarnessError("${where}: must contain exactly one of steps, parallel, stages")
        if (rec.containsKey('failFast') && !rec.containsKey('parallel')) throw new HarnessError("${where}: failFast without parallel")
        if (rec.containsKey('parallel') && rec.containsKey('agent')) throw new HarnessError("${where}: a parallel stage cannot have an agent")
        return rec
    }

    // Only `when { expression { fileExists('path') } }`: the one condition the emitter writes.
    Map when(String where, Object[] args) {
        Rules.arity(where, args, 1)
        Map rec = new LinkedHashMap()
        Rules.run(Rules.body(where, args[0]), new Scope(where, [
            expression: { Object[] a ->
                Rules.once(rec, 'expression', where)
                Rules.arity(where + ' > expression', a, 1)
                int calls = 0
                Rules.run(Rules.body(where + ' > expression', a[0]), new Scope(where + ' > expression', [
                    fileExists: { Object[] b ->
                        calls++
                        Rules.arity(where + ' > expression > fileExists', b, 1)
                        rec.fileExists = Rules.str(where + ' > expression > fileExists', b[0])
                        true
                    },
                ]))
                if (calls != 1) throw new HarnessError("${where} > expression: expected exactly one fileExists('path')")
            },
        ]))
        if (!rec.containsKey('fileExists')) throw new HarnessError("${where}: empty when block")
        return rec
    }

    Map post(String where, Object[] args) {
        Rules.arity(where, args, 1)
        Map rec = new LinkedHashMap()
        Map calls = [:]
        for (String cond : Rules.POST_CONDITIONS) {
            String c = cond
            calls[c] = { Object[] a ->
                Rules.once(rec, c, where)
                Rules.arity(where + ' > ' + c, a, 1)
                List s = steps(where + ' > ' + c, Rules.body(where + ' > ' + c, a[0]))
                if (s.isEmpty()) throw new HarnessError("${where} > ${c}: empty block")
                rec[c] = s
            }
        }
        Rules.run(Rules.body(where, args[0]), new Scope(where, calls))
        if (rec.isEmpty()) throw new HarnessError("${where}: empty post block")
        return rec
    }

    List steps(String where, Closure c) {
        List rec = []
        Rules.run(c, new Scope(where, [
            sh: { Object[] a ->
                if (a.length == 1 && a[0] instanceof Map) {
                    Map m = Rules.named(where + ' > sh', a, 0, ['script'], ['label'])
                    Map s = [step: 'sh', script: Rules.str(where + ' > sh', m.script)]
                    if (m.containsKey('label')) s.label = Rules.str(where + ' > sh', m.label)
                    rec << s
                } else {
                    Rules.arity(where + ' > sh', a, 1)
                    rec << [step: 'sh', script: Rules.str(where + ' > sh', a[0])]
                }
            },
            echo: { Object[] a -> Rules.arity(where + ' > echo', a, 1); rec << [step: 'echo', message: Rules.str(where + ' > echo', a[0])] },
            withCredentials: { Object[] a ->
                Rules.arity(where + ' > withCredentials', a, 2)
                if (!(a[0] instanceof List) || ((List) a[0]).isEmpty()) throw new HarnessError("${where} > withCredentials: expected a non-empty list of bindings")
                List bindings = ((List) a[0]).collect { b ->
                    if (!(b instanceof Binding)) throw new HarnessError("${where} > withCredentials: not a credentials binding")
                    ((Binding) b).data
                }
                List inner = steps(where + ' > withCredentials', Rules.body(where + ' > withCredentials', a[1]))
                if (inner.isEmpty()) throw new HarnessError("${where} > withCredentials: empty block")
                rec << [step: 'withCredentials', bindings: bindings, steps: inner]
            },
            string: { Object[] a ->
                Map m = Rules.named(where + ' > string', a, 0, ['credentialsId', 'variable'], [])
                String v = Rules.str(where + ' > string', m.variable)
                if (!(v ==~ /[A-Za-z_][A-Za-z0-9_]*/)) throw new HarnessError("${where} > string: bad variable name '${v}'")
                new Binding([type: 'string', credentialsId: Rules.str(where + ' > string', m.credentialsId), variable: v])
            },
            catchError: { Object[] a ->
                Map m = Rules.named(where + ' > catchError', a, 1, [], ['buildResult', 'stageResult', 'message'])
                Map s = [step: 'catchError']
                for (String k : ['buildResult', 'stageResult']) {
                    if (m.containsKey(k)) {
                        String r = Rules.str(where + ' > catchError', m[k])
                        if (!Rules.RESULTS.contains(r)) throw new HarnessError("${where} > catchError: unknown result '${r}'")
                        s[k] = r
                    }
                }
                if (m.containsKey('message')) s.message = Rules.str(where + ' > catchError', m.message)
                s.steps = steps(where + ' > catchError', Rules.body(where + ' > catchError', a[1]))
                if (((List) s.steps).isEmpty()) throw new HarnessError("${where} > catchError: empty block")
                rec << s
            },
            junit: { Object[] a ->
                if (a.length == 1 && a[0] instanceof Map) {
                    Map m = Rules.named(where + ' > junit', a, 0, ['testResults'], ['allowEmptyResults'])
                    Map s = [step: 'junit', testResults: Rules.str(where + ' > junit', m.testResults)]
                    if (m.containsKey('allowEmptyResults')) s.allowEmptyResults = (m.allowEmptyResults instanceof Boolean) ? m.allowEmptyResults : { throw new HarnessError("${where} > junit: allowEmptyResults must be boolean") }()
                    rec << s
                } else {
                    Rules.arity(where + ' > junit', a, 1)
                    rec << [step: 'junit', testResults: Rules.str(where + ' > junit', a[0])]
                }
            },
            archiveArtifacts: { Object[] a ->
                if (a.length == 1 && a[0] instanceof Map) {
                    Map m = Rules.named(where + ' > archiveArtifacts', a, 0, ['artifacts'], ['allowEmptyArchive', 'fingerprint'])
                    Map s = [step: 'archiveArtifacts', artifacts: Rules.str(where + ' > archiveArtifacts', m.artifacts)]
                    for (String k : ['allowEmptyArchive', 'fingerprint']) {
                        if (m.containsKey(k)) {
                            if (!(m[k] instanceof Boolean)) throw new HarnessError("${where} > archiveArtifacts: ${k} must be boolean")
                            s[k] = m[k]
                        }
                    }
                    rec << s
                } else {
                    Rules.arity(where + ' > archiveArtifacts', a, 1)
                    rec << [step: 'archiveArtifacts', artifacts: Rules.str(where + ' > archiveArtifacts', a[0])]
                }
            },
            stash: { Object[] a ->
                Map m = Rules.named(where + ' > stash', a, 0, ['name'], ['includes', 'excludes', 'allowEmpty'])
                Map s = [step: 'stash', name: Rules.str(where + ' > stash', m.name)]
                for (String k : ['includes', 'excludes']) if (m.containsKey(k)) s[k] = Rules.str(where + ' > stash', m[k])
                rec << s
            },
            unstash: { Object[] a -> Rules.arity(where + ' > unstash', a, 1); rec << [step: 'unstash', name: Rules.str(where + ' > unstash', a[0])] },
            dir: { Object[] a ->
                Rules.arity(where + ' > dir', a, 2)
                List inner = steps(where + ' > dir', Rules.body(where + ' > dir', a[1]))
                if (inner.isEmpty()) throw new HarnessError("${where} > dir: empty block")
                rec << [step: 'dir', path: Rules.str(where + ' > dir', a[0]), steps: inner]
            },
            deleteDir: { Object[] a -> Rules.arity(where + ' > deleteDir', a, 0); rec << [step: 'deleteDir'] },
        ]))
        return rec
    }
}

class Syntax {
    // Groovy resolves Object and Closure methods (println, sleep, with, ...) before the
    // delegate, so the names a pipeline may call are checked here, on the AST.
    static final Set<String> CALLS = [
        'pipeline', 'agent', 'label', 'docker', 'image', 'args', 'options', 'timeout', 'retry',
        'skipDefaultCheckout', 'disableConcurrentBuilds', 'environment', 'credentials', 'stages',
        'stage', 'steps', 'parallel', 'failFast', 'post', 'sh', 'echo', 'withCredentials',
        'string', 'catchError', 'junit', 'archiveArtifacts', 'stash', 'unstash', 'dir', 'deleteDir',
        'when', 'expression', 'fileExists',
    ] as Set
    static final Set<String> NAMES = ['any', 'none'] as Set

    static void callName(MethodCallExpression m) {
        String name = m.methodAsString
        if (name == 'script') throw new HarnessError("syntax: line ${m.lineNumber}: script blocks are not allowed (declarative only)")
        if (!m.implicitThis) throw new HarnessError("syntax: line ${m.lineNumber}: method call on an object ('${m.text}')")
        if (!(Rules.POST_CONDITIONS.contains(name) || CALLS.contains(name))) {
            throw new HarnessError("syntax: line ${m.lineNumber}: unknown directive or step '${name}'")
        }
    }

    /** Declarative shape of the AST: one pipeline call, closures of calls, literal arguments. */
    static void check(ModuleNode module) {
        if (!module.methods.isEmpty()) throw new HarnessError("syntax: method definitions are not declarative")
        if (module.classes.size() != 1) throw new HarnessError("syntax: class definitions are not declarative")
        List stmts = module.statementBlock.statements
        if (stmts.size() != 1) throw new HarnessError("syntax: expected exactly one top-level 'pipeline { }', found ${stmts.size()} statements")
        Statement only = (Statement) stmts[0]
        if (!(only instanceof ExpressionStatement) || !(((ExpressionStatement) only).expression instanceof MethodCallExpression)) {
            throw new HarnessError("syntax: expected exactly one top-level 'pipeline { }'")
        }
        MethodCallExpression call = (MethodCallExpression) ((ExpressionStatement) only).expression
        if (!call.implicitThis || call.methodAsString != 'pipeline') throw new HarnessError("syntax: the top-level call must be 'pipeline { }'")
        expr(call.arguments, 'pipeline')
    }

    static void block(Statement s, String where) {
        List stmts = (s instanceof BlockStatement) ? ((BlockStatement) s).statements : [s]
        for (Object o : stmts) {
            Statement st = (Statement) o
            int line = st.lineNumber
            if (!(st instanceof ExpressionStatement)) throw new HarnessError("syntax: line ${line}: only directives and steps are allowed (found ${st.getClass().simpleName})")
            Expression e = ((ExpressionStatement) st).expression
            if (e instanceof MethodCallExpression) {
                MethodCallExpression m = (MethodCallExpression) e
                callName(m)
                expr(m.arguments, m.methodAsString)
            } else if (e instanceof BinaryExpression && !(e instanceof DeclarationExpression) && ((BinaryExpression) e).operation.text == '='
                       && ((BinaryExpression) e).leftExpression instanceof VariableExpression) {
                expr(((BinaryExpression) e).rightExpression, where)
            } else {
                throw new HarnessError("syntax: line ${line}: only directives and steps are allowed (found ${e.getClass().simpleName})")
            }
        }
    }

    static void expr(Expression e, String where) {
        if (e instanceof ClosureExpression) {
            ClosureExpression c = (ClosureExpression) e
            if (c.parameters != null && c.parameters.length > 0) throw new HarnessError("syntax: line ${e.lineNumber}: closure parameters are not declarative")
            block(c.code, where)
        } else if (e instanceof NamedArgumentListExpression || e instanceof MapExpression) {
            for (MapEntryExpression me : ((MapExpression) e).mapEntryExpressions) {
                if (!(me.keyExpression instanceof ConstantExpression)) throw new HarnessError("syntax: line ${e.lineNumber}: computed argument name")
                expr(me.valueExpression, where)
            }
        } else if (e instanceof TupleExpression) { // also ArgumentListExpression
            for (Expression x : ((TupleExpression) e).expressions) expr(x, where)
        } else if (e instanceof ListExpression) {
            for (Expression x : ((ListExpression) e).expressions) expr(x, where)
        } else if (e instanceof MethodCallExpression) {
            MethodCallExpression m = (MethodCallExpression) e
            callName(m)
            expr(m.arguments, m.methodAsString)
        } else if (e instanceof VariableExpression) {
            String name = ((VariableExpression) e).name
            if (!NAMES.contains(name)) throw new HarnessError("syntax: line ${e.lineNumber}: unknown name '${name}'")
        } else if (e instanceof ConstantExpression || e instanceof GStringExpression) {
            // literals; a GString is refused when a directive receives it
        } else {
            throw new HarnessError("syntax: line ${e.lineNumber}: expression not allowed in a declarative pipeline (${e.getClass().simpleName}: ${e.text})")
        }
    }
}

/** Runs the AST check inside the one compilation of each file. */
class SyntaxCustomizer extends CompilationCustomizer {
    SyntaxCustomizer() { super(CompilePhase.CONVERSION) }

    void call(SourceUnit source, GeneratorContext context, ClassNode classNode) {
        Syntax.check(source.AST)
    }
}

class Json {
    static String write(Object v) {
        StringBuilder sb = new StringBuilder()
        emit(sb, v)
        return sb.toString()
    }

    static void emit(StringBuilder sb, Object v) {
        if (v == null) sb.append('null')
        else if (v instanceof String) str(sb, (String) v)
        else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) sb.append(v.toString())
        else if (v instanceof Map) {
            sb.append('{')
            boolean first = true
            ((Map) v).each { k, x ->
                if (!first) sb.append(',')
                first = false
                str(sb, k.toString()); sb.append(':'); emit(sb, x)
            }
            sb.append('}')
        } else if (v instanceof List) {
            sb.append('[')
            boolean first = true
            for (Object x : (List) v) { if (!first) sb.append(','); first = false; emit(sb, x) }
            sb.append(']')
        } else throw new IllegalStateException("cannot serialise " + v.getClass())
    }

    // ASCII-only output: every other UTF-16 unit is written as \\uXXXX so no charset is involved.
    static void str(StringBuilder sb, String s) {
        sb.append('"')
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i)
            if (c == (char) '"') sb.append('\\"')
            else if (c == (char) '\\') sb.append('\\\\')
            else if (c < (char) 0x20 || c > (char) 0x7e) sb.append(String.format('\\u%04x', (int) c))
            else sb.append(c)
        }
        sb.append('"')
    }
}

List results = []
for (String path : args) {
    Map out = new LinkedHashMap()
    out.file = path
    try {
        String text = new File(path).getText('UTF-8')
        CompilerConfiguration config = new CompilerConfiguration()
        config.addCompilationCustomizers(new SyntaxCustomizer())
        Script script
        try {
            script = new GroovyShell(config).parse(text, 'Jenkinsfile')
        } catch (MultipleCompilationErrorsException e) {
            // a refusal from the AST check arrives wrapped: report it as itself
            def refusal = e.errorCollector.errors.find { it instanceof ExceptionMessage && it.cause instanceof HarnessError }
            if (refusal != null) throw (HarnessError) ((ExceptionMessage) refusal).cause
            throw e
        }
        Recorder recorder = new Recorder()
        int calls = 0
        Map recorded = null
        script.binding = new groovy.lang.Binding([
            pipeline: { Object[] a -> calls++; recorded = recorder.pipeline(a) },
        ])
        script.run()
        if (calls != 1 || recorded == null) throw new HarnessError("expected exactly one pipeline { } call")
        out.ok = true
        out.pipeline = recorded
    } catch (HarnessError e) {
        out.ok = false
        out.error = e.message
    } catch (CompilationFailedException e) {
        out.ok = false
        out.error = 'groovy: ' + e.message.readLines().findAll { it.trim() }.take(3).join(' | ')
    } catch (Throwable e) {
        out.ok = false
        out.error = 'evaluation failed: ' + e.getClass().name + ': ' + e.message
    }
    results << out
}
System.out.print(Json.write(results))
System.out.flush()
