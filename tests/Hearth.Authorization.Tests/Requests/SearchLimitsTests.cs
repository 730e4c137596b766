using Hearth.Authorization.Requests;

namespace Hearth.Authorization.Tests.Requests;

public class SearchLimitsTests
{
    private static KeyValuePair<string, IReadOnlyList<string>> P(string name, params string[] values) => KeyValuePair.Create(name, (IReadOnlyList<string>)values);

    private static string List(int items) => string.Join(",", Enumerable.Range(0, items).Select(i => "n" + i));

    public static TheoryData<string, KeyValuePair<string, IReadOnlyList<string>>[], bool> Cases => new()
    {
        { "100 element names", [P("_elements", List(100))], true },
        { "101 element names", [P("_elements", List(101))], false },
        { "101 ids", [P("_id", List(101))], false },
        { "101 types", [P("_type", List(101))], false },
        { "escaped commas do not separate", [P("name", string.Join("\\,", Enumerable.Repeat("x", 150)))], true },
        { "100 parameters", Enumerable.Range(0, 100).Select(i => P("p" + i, "v")).ToArray(), true },
        { "101 parameters", Enumerable.Range(0, 101).Select(i => P("p" + i, "v")).ToArray(), false },
        { "101 repeats of one", [P("code", Enumerable.Repeat("v", 101).ToArray())], false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Check(string name, KeyValuePair<string, IReadOnlyList<string>>[] parameters, bool accepted)
        => Assert.True(accepted == (SearchLimits.Check(parameters) is null), name);

    [Fact]
    public void Check_UnprintableName_NotEchoed()
        => Assert.DoesNotContain("\n", SearchLimits.Check([P("a\nb", List(101))]));
}
