//! Letters: the figures of a case (open invoices, interest, costs, payment reference, EPC QR) gathered from the store into the letter data the templates render (issue #5).
