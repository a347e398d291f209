using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AdHocMirror.Testing.Leftovers;

/// <summary>Marks a test class that runs after every other test of the assembly has ended (the leftover check).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RunsLastAttribute : Attribute;

/// <summary>
/// xunit's own framework, with two additions a test project opts into with
/// <c>[assembly: TestFramework(RunsLastFramework.TypeName, RunsLastFramework.AssemblyName)]</c>: the run's marker is put
/// in the environment before any test starts (<see cref="TestRun"/>), and classes marked <see cref="RunsLastAttribute"/>
/// run once all the others have finished, so that their failure fails the run like any test.
/// </summary>
public sealed class RunsLastFramework : XunitTestFramework
{
    public const string TypeName = "AdHocMirror.Testing.Leftovers.RunsLastFramework";
    public const string AssemblyName = "AdHocMirror.Testing";

    public RunsLastFramework(IMessageSink messageSink)
        : base(messageSink)
    {
        TestRun.Mark();
    }

    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new Executor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Executor(AssemblyName assemblyName, ISourceInformationProvider sourceInformationProvider, IMessageSink diagnosticMessageSink)
        : XunitTestFrameworkExecutor(assemblyName, sourceInformationProvider, diagnosticMessageSink)
    {
        protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        {
            using var runner = new LastRunner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
            await runner.RunAsync();
        }
    }

    private sealed class LastRunner(ITestAssembly testAssembly, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnosticMessageSink, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        : XunitTestAssemblyRunner(testAssembly, testCases, diagnosticMessageSink, executionMessageSink, executionOptions)
    {
        protected override async Task<RunSummary> RunTestCollectionsAsync(IMessageBus messageBus, CancellationTokenSource cancellationTokenSource)
        {
            var all = TestCases.ToList();
            var last = all.Where(c => c.TestMethod.TestClass.Class.GetCustomAttributes(typeof(RunsLastAttribute)).Any()).ToList();
            if (last.Count == 0 || last.Count == all.Count)
            {
                return await base.RunTestCollectionsAsync(messageBus, cancellationTokenSource);
            }

            TestCases = all.Except(last).ToList();
            var summary = await base.RunTestCollectionsAsync(messageBus, cancellationTokenSource);
            TestCases = last;
            summary.Aggregate(await base.RunTestCollectionsAsync(messageBus, cancellationTokenSource));
            return summary;
        }
    }
}
