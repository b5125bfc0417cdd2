"""The learning agenda and the evidence register: learning questions tied to the results framework,
and evaluations, studies, policy briefs and TWG records with their key findings, linked to the
indicators and results-framework nodes they speak to."""
